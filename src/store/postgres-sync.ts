import { JsonDuckDBValueConverter } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { isConnectionError } from '../catalog/postgres/pg-driver.js';
import type { ColumnInfo } from '../catalog/types.js';
import { resolveCatalog } from '../config/load.js';
import type { StoreSettings } from '../config/types.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { quoteIdent } from '../engine/sql.js';

export interface TableSyncReport {
  table: string;
  target: string;
  snapshot: number;
  /** True when the store already holds this snapshot: nothing was written. */
  skipped: boolean;
  rowsInSnapshot: number;
  rowsUpserted: number;
  rowsDeleted: number;
  /** Seconds from the gold commit to the store commit. */
  refreshSeconds: number | undefined;
}

/** PostgreSQL takes at most 65,535 parameters per statement: batches are sized from the column count. */
const MAX_PARAMETERS = 65_535;

/** PostgreSQL keeps 63 bytes of a name: long ones end with a hash of the whole, so that two never collide. */
function indexName(table: string, columns: readonly string[]): string {
  const name = `${table}_${columns.join('_')}_idx`;
  if (Buffer.byteLength(name) <= 63) return name;
  return `${name.slice(0, 50)}_${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

/** Scalar DuckDB types and their PostgreSQL column types. */
function pgScalar(t: string): string | undefined {
  if (/^(TINYINT|SMALLINT|UTINYINT)$/.test(t)) return 'SMALLINT';
  if (/^(INTEGER|USMALLINT)$/.test(t)) return 'INTEGER';
  if (/^(BIGINT|UINTEGER)$/.test(t)) return 'BIGINT';
  if (/^(HUGEINT|UBIGINT|UHUGEINT)$/.test(t)) return 'NUMERIC';
  // DECIMAL(p,s) stays exact with its precision and scale: money is never a float on the way.
  if (t.startsWith('DECIMAL')) return t.replace('DECIMAL', 'NUMERIC');
  if (/^(FLOAT|REAL)$/.test(t)) return 'REAL';
  if (t === 'DOUBLE') return 'DOUBLE PRECISION';
  if (t === 'BOOLEAN') return 'BOOLEAN';
  if (t === 'DATE') return 'DATE';
  if (t === 'TIMESTAMP WITH TIME ZONE') return 'TIMESTAMPTZ';
  if (t.startsWith('TIMESTAMP')) return 'TIMESTAMP';
  if (t === 'TIME WITH TIME ZONE') return 'TIMETZ';
  if (t === 'TIME') return 'TIME';
  if (t === 'INTERVAL') return 'INTERVAL';
  if (t === 'UUID') return 'UUID';
  if (t === 'BLOB') return 'BYTEA';
  if (t === 'JSON') return 'JSONB';
  if (t === 'VARCHAR') return 'TEXT';
  return undefined;
}

/** PostgreSQL types whose values are given as DuckDB's text of them (pg parses it exactly). */
const VIA_TEXT = new Set(['INTERVAL', 'UUID', 'JSONB', 'TIMETZ']);

/**
 * DuckDB type → PostgreSQL column type, and the expression that gives PostgreSQL a value it parses exactly:
 * lists of scalars become arrays, nested values (STRUCT, MAP, lists of those) `jsonb`, BLOB `bytea` (hex),
 * INTERVAL `interval` (its text). Enums and anything else unusual are kept as text.
 */
export function pgColumn(duck: string, column: string): { type: string; select: string; array: boolean } {
  const t = duck.toUpperCase();
  const col = quoteIdent(column);
  const scalar = pgScalar(t);
  if (scalar === 'BYTEA') return { type: scalar, select: `CASE WHEN ${col} IS NULL THEN NULL ELSE '\\x' || hex(${col}) END`, array: false };
  if (scalar && VIA_TEXT.has(scalar)) return { type: scalar, select: `CAST(${col} AS VARCHAR)`, array: false };
  if (scalar) return { type: scalar, select: col, array: false };
  const list = /^(.*)\[\]$/.exec(t);
  const element = list ? pgScalar(list[1]!) : undefined;
  if (element && element !== 'BYTEA' && (element === 'UUID' || !VIA_TEXT.has(element))) {
    return { type: `${element}[]`, select: element === 'UUID' ? `CAST(${col} AS VARCHAR[])` : col, array: true };
  }
  if (list || /^(STRUCT|MAP|UNION)\b/.test(t)) return { type: 'JSONB', select: `CAST(to_json(${col}) AS VARCHAR)`, array: false };
  return { type: 'TEXT', select: `CAST(${col} AS VARCHAR)`, array: false };
}

/**
 * Upserts gold tables into PostgreSQL by key (seed 002's operational store): only rows whose content changed are
 * written, keys that left the snapshot are deleted or flagged, and a `_tributary_sync` row per table records the
 * snapshot synced, the counts and the refresh time — all in one PostgreSQL transaction per table. A table whose
 * current snapshot is already in the store is skipped without writing anything.
 */
export async function syncStore(lake: Lake, store: StoreSettings, only: readonly string[] = []): Promise<TableSyncReport[]> {
  const location = resolveCatalog(
    store.url.includes('?schema=') ? store.url : `${store.url}${store.url.includes('?') ? '&' : '?'}schema=public`,
    lake.config.projectDir,
    lake.config.lakePath,
    'store.url',
  );
  if (location.kind !== 'postgres') throw new TributaryError('CONFIG_INVALID', 'store.url: expected a postgres:// URL');
  for (const name of only) {
    if (!store.tables[name])
      throw new TributaryError('NOT_FOUND', `store: ${name} is not in store.tables`, { hint: `synced tables: ${Object.keys(store.tables).join(', ')}` });
  }
  const server = location.url.replace(/:[^:@/]*@/, ':***@');
  const client = new pg.Client({ connectionString: location.url, application_name: 'tributary sync' });
  // Without a listener, a server restart mid-sync kills the process with "Unhandled 'error' event"; with it, the
  // query in flight fails and is reported below.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new TributaryError('CATALOG_ERROR', `store ${server}: cannot connect: ${errorMessage(err)}`, { cause: err });
  }
  const schema = quoteIdent(location.schema);
  let current: string | undefined;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}._tributary_sync (
      target TEXT PRIMARY KEY, source_table TEXT NOT NULL, source_snapshot BIGINT NOT NULL, gold_committed_at TIMESTAMPTZ,
      synced_at TIMESTAMPTZ NOT NULL, rows_in_snapshot BIGINT NOT NULL, rows_upserted BIGINT NOT NULL, rows_deleted BIGINT NOT NULL,
      refresh_seconds DOUBLE PRECISION)`);
    const reports: TableSyncReport[] = [];
    for (const [name, spec] of Object.entries(store.tables)) {
      if (only.length && !only.includes(name)) continue;
      current = name;
      reports.push(await syncTable(lake, client, schema, name, spec, store.onDelete ?? 'delete'));
    }
    return reports;
  } catch (err) {
    if (!isConnectionError(err)) throw err;
    // Each table is one transaction: what was synced before stays, the table in flight was rolled back.
    throw new TributaryError('CATALOG_ERROR', `store ${server}: the connection was lost${current ? ` while syncing ${current}` : ''}: ${errorMessage(err)}`, {
      hint: 'the server restarted or went away; run `tributary sync` again once it is up (synced tables are skipped)',
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What `_tributary_sync` says per synced table (none when nothing was synced yet). */
export async function storeRefreshTimes(
  store: StoreSettings,
  projectDir: string,
  lakePath: string,
): Promise<Record<string, { snapshot: number; syncedAt: string; refreshSeconds: number | null }>> {
  const location = resolveCatalog(
    store.url.includes('?schema=') ? store.url : `${store.url}${store.url.includes('?') ? '&' : '?'}schema=public`,
    projectDir,
    lakePath,
    'store.url',
  );
  if (location.kind !== 'postgres') return {};
  const client = new pg.Client({ connectionString: location.url, connectionTimeoutMillis: 2000, application_name: 'tributary' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT source_table, source_snapshot, synced_at, refresh_seconds FROM ${quoteIdent(location.schema)}._tributary_sync`);
    return Object.fromEntries(
      rows.map((r) => [
        String(r.source_table),
        {
          snapshot: Number(r.source_snapshot),
          syncedAt: (r.synced_at as Date).toISOString(),
          refreshSeconds: r.refresh_seconds === null ? null : Number(r.refresh_seconds),
        },
      ]),
    );
  } catch {
    return {}; // no store yet, or unreachable: the lake's own times are still reported
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The files of the current snapshot that the synced one did not have, when every snapshot since only added files
 * (appends); undefined when something was removed or rewritten (an overwrite, a compaction), or the synced snapshot
 * is gone: then every row is read again (and rows already in the store are left as they are).
 */
async function filesAddedSince(
  lake: Lake,
  table: string,
  synced: { id: number; committedAt: number | undefined },
  current: readonly { path: string }[],
): Promise<{ path: string }[] | undefined> {
  const before = await lake.catalog.resolveSnapshot(table, { snapshotId: synced.id }).catch(() => undefined);
  // Gone (expired), or another table's snapshot of the same id (the table was dropped and written again).
  if (!before || before.snapshot.committedAt.getTime() !== synced.committedAt) return undefined;
  const now = new Set(current.map((f) => f.path));
  if (!before.files.every((f) => now.has(f.path))) return undefined;
  const old = new Set(before.files.map((f) => f.path));
  return current.filter((f) => !old.has(f.path));
}

async function syncTable(
  lake: Lake,
  client: pg.Client,
  schema: string,
  name: string,
  spec: StoreSettings['tables'][string],
  onDelete: 'delete' | 'flag',
): Promise<TableSyncReport> {
  const resolved = await lake.catalog.resolveSnapshot(name);
  if (!resolved) throw new TributaryError('TABLE_NOT_FOUND', `store: ${name} has no snapshot yet`, { hint: 'run `tributary run` first' });
  const { snapshot } = resolved;
  const targetName = spec.target ?? name.replace('.', '_');
  const target = `${schema}.${quoteIdent(targetName)}`;
  const key = [spec.key].flat();
  const report: TableSyncReport = {
    table: name,
    target: targetName,
    snapshot: snapshot.snapshotId,
    skipped: false,
    rowsInSnapshot: snapshot.rowCount,
    rowsUpserted: 0,
    rowsDeleted: 0,
    refreshSeconds: undefined,
  };
  const columns: ColumnInfo[] = snapshot.schema;
  for (const k of key) {
    if (!columns.some((c) => c.name === k)) throw new TributaryError('CONFIG_INVALID', `store.tables.${name}.key: ${name} has no column "${k}"`);
  }
  // Indexes: the ones declared here, and one per dimension and time column the API declares for the table (what
  // applications filter and group the store's copy by).
  const served = lake.config.serve.tables?.[name];
  const indexes = [
    ...(spec.indexes ?? []).map((i) => [i].flat()),
    ...(served?.dimensions ?? []).map((d) => [d]),
    ...(served?.timeColumn ? [[served.timeColumn]] : []),
  ];
  for (const [i, index] of (spec.indexes ?? []).entries()) {
    for (const c of [index].flat()) {
      if (!columns.some((col) => col.name === c))
        throw new TributaryError('CONFIG_INVALID', `store.tables.${name}.indexes[${i}]: ${name} has no column "${c}"`);
    }
  }
  const uniqueIndexes = [
    ...new Map(
      indexes
        .filter((cols) => cols.every((c) => columns.some((col) => col.name === c)) && cols.join() !== key.join())
        .map((cols) => [cols.join('\u0000'), cols]),
    ).values(),
  ];
  const done = await client.query(`SELECT source_snapshot, gold_committed_at FROM ${schema}._tributary_sync WHERE target = $1 AND source_table = $2`, [
    targetName,
    name,
  ]);
  // A snapshot is known by its id and its commit time: a table dropped and written again starts its ids afresh.
  const synced = done.rows[0]
    ? { id: Number(done.rows[0].source_snapshot), committedAt: (done.rows[0].gold_committed_at as Date | null)?.getTime() }
    : undefined;
  if (synced && synced.id === snapshot.snapshotId && synced.committedAt === snapshot.committedAt.getTime()) return { ...report, skipped: true };

  const cols = columns.map((c) => quoteIdent(c.name));
  const keyCols = key.map(quoteIdent).join(', ');
  await client.query('BEGIN');
  try {
    const mapped = columns.map((c) => pgColumn(c.type, c.name));
    await client.query(`CREATE TABLE IF NOT EXISTS ${target} (${columns.map((c, i) => `${quoteIdent(c.name)} ${mapped[i]!.type}`).join(', ')},
      _row_hash TEXT NOT NULL, _deleted BOOLEAN NOT NULL DEFAULT FALSE, _synced_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (${keyCols}))`);
    // Columns added to the gold table since the last sync are added to the store's table too.
    for (const [i, c] of columns.entries()) await client.query(`ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${mapped[i]!.type}`);
    for (const cols of uniqueIndexes) {
      await client.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(indexName(targetName, cols))} ON ${target} (${cols.map(quoteIdent).join(', ')})`);
    }
    await client.query(`CREATE TEMP TABLE _staging (LIKE ${target} INCLUDING DEFAULTS) ON COMMIT DROP`);
    const batch = Math.max(1, Math.floor(MAX_PARAMETERS / (columns.length + 2)));
    // Rows go in batches from DuckDB (never the whole table in JS), each with a hash of its content.
    const append = spec.mode === 'append';
    // A history only grows: when the lake table only grew since the last sync, its new files hold every new row.
    const since = append && synced ? await filesAddedSince(lake, name, synced, resolved.files) : undefined;
    const select =
      since?.length === 0
        ? `SELECT * FROM (${await lake.selectOfFiles(resolved.files, snapshot.schema)}) WHERE false`
        : await lake.selectOfFiles(since ?? resolved.files, snapshot.schema);
    const stream = await lake.engine.connection.stream(
      `SELECT ${mapped.map((m) => m.select).join(', ')}, md5(CAST(to_json(t) AS VARCHAR)) AS _row_hash FROM (${select}) AS t`,
    );
    const now = new Date().toISOString();
    for (;;) {
      const chunk = await stream.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      // JSON conversion gives text for dates, decimals and big integers, which PostgreSQL parses exactly.
      const rows = chunk.convertRows(JsonDuckDBValueConverter);
      for (let i = 0; i < rows.length; i += batch) {
        const part = rows.slice(i, i + batch);
        const values: unknown[] = [];
        const tuples = part.map((row) => {
          const at = values.length;
          // Arrays go to pg as arrays (it writes PostgreSQL's array literal); other objects as JSON text.
          row.slice(0, columns.length).forEach((v, k) => {
            values.push(v === null || typeof v !== 'object' || (mapped[k]!.array && Array.isArray(v)) ? v : JSON.stringify(v));
          });
          values.push(row[columns.length], now);
          return `(${Array.from({ length: columns.length + 2 }, (_, k) => `$${at + k + 1}`).join(', ')})`;
        });
        await client.query(`INSERT INTO _staging (${cols.join(', ')}, _row_hash, _synced_at) VALUES ${tuples.join(', ')}`, values);
      }
    }
    const set = [...cols.filter((c) => !key.map(quoteIdent).includes(c)), '_row_hash', '_deleted', '_synced_at'].map((c) => `${c} = EXCLUDED.${c}`).join(', ');
    // Only rows that are new, changed, or coming back from deletion are written; a history only gets new keys.
    const upserted = await client.query(`INSERT INTO ${target} (${cols.join(', ')}, _row_hash, _deleted, _synced_at)
        SELECT ${cols.join(', ')}, _row_hash, FALSE, _synced_at FROM _staging
        ON CONFLICT (${keyCols}) ${
          append
            ? 'DO NOTHING'
            : `DO UPDATE SET ${set}
        WHERE ${target}._row_hash IS DISTINCT FROM EXCLUDED._row_hash OR ${target}._deleted`
        }`);
    const gone = `NOT EXISTS (SELECT 1 FROM _staging s WHERE ${key.map((k) => `s.${quoteIdent(k)} = ${target}.${quoteIdent(k)}`).join(' AND ')})`;
    const deleted = append
      ? { rowCount: 0 }
      : onDelete === 'delete'
        ? await client.query(`DELETE FROM ${target} WHERE ${gone}`)
        : await client.query(`UPDATE ${target} SET _deleted = TRUE, _synced_at = $1 WHERE NOT _deleted AND ${gone}`, [now]);
    const refresh = (Date.now() - snapshot.committedAt.getTime()) / 1000;
    await client.query(
      `INSERT INTO ${schema}._tributary_sync (target, source_table, source_snapshot, gold_committed_at, synced_at, rows_in_snapshot, rows_upserted, rows_deleted, refresh_seconds)
       VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8)
       ON CONFLICT (target) DO UPDATE SET source_table = EXCLUDED.source_table, source_snapshot = EXCLUDED.source_snapshot, gold_committed_at = EXCLUDED.gold_committed_at,
         synced_at = EXCLUDED.synced_at, rows_in_snapshot = EXCLUDED.rows_in_snapshot, rows_upserted = EXCLUDED.rows_upserted, rows_deleted = EXCLUDED.rows_deleted, refresh_seconds = EXCLUDED.refresh_seconds`,
      [targetName, name, snapshot.snapshotId, snapshot.committedAt.toISOString(), snapshot.rowCount, upserted.rowCount ?? 0, deleted.rowCount ?? 0, refresh],
    );
    await client.query('COMMIT');
    return { ...report, rowsUpserted: upserted.rowCount ?? 0, rowsDeleted: deleted.rowCount ?? 0, refreshSeconds: refresh };
  } catch (err) {
    if (isConnectionError(err)) throw err; // reported once, naming the server, by syncStore
    await client.query('ROLLBACK').catch(() => undefined);
    throw err instanceof TributaryError
      ? err
      : new TributaryError('CATALOG_ERROR', `store: syncing ${name} into ${targetName}: ${errorMessage(err).split('\n')[0]}`, { cause: err });
  }
}
