import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { quoteIdent as duckIdent } from '../../engine/sql.js';
import { TributaryError } from '../../errors.js';
import { parseTableName } from '../../lake/table-name.js';
import { toMillis } from '../../util/duration.js';
import { newId } from '../../util/ids.js';
import { appendBatches, lineageColumns, type SourceBatch, writeContracted } from '../batches.js';
import { contractBatch, policy, resolveSchemaContract, writeRejects } from '../schema-contract.js';
import { emptyReport, type SourceConnector, type SourceContext } from '../connector.js';
import { type SqlSourceConfig, sqlSourceSchema } from './config.js';
import { ingestChanges, slotName } from './cdc.js';
import { miscounted, readCsv, scratch } from './csv.js';
import { PostgresReader } from './postgres.js';
import { openReader, type SqlColumn, type SqlReader } from './reader.js';

/**
 * `kind: 'sql'`: a database table read into the lake. `replace` reads it whole into a new snapshot; `append` reads
 * the rows past a cursor in batches, each committed with the cursor's new value (its state), so that a crash never
 * skips or repeats a row. Rows stream from the server to a file DuckDB reads (see postgres.ts): memory stays flat.
 */

/** An `append` source's state: the cursor and tie-breaker values of the last row committed, as the server wrote them. */
interface CursorState {
  /** Values of [cursor, ...tieBreaker] of the last row read; undefined: none read yet. */
  last?: string[];
}

interface Plan {
  reader: SqlReader;
  columns: SqlColumn[];
  /** What PostgreSQL selects, without WHERE. */
  from: string;
  /** The cursor column and its tie-breakers, with their types on the server (when there is a cursor). */
  keys: { name: string; type: string }[];
  /** `merge`: the columns identifying a row. */
  primaryKey: string[];
}

async function open(ctx: SourceContext, config: SqlSourceConfig): Promise<Plan> {
  const where = `sources.${ctx.name}`;
  const reader = await openReader(config.url, where);
  const tableRef = (t: string) => reader.tableRef(t);
  const quoteIdent = (n: string) => reader.quoteIdent(n);
  try {
    const projection = config.columns ? config.columns.map(quoteIdent).join(', ') : '*';
    // A query ends on a line of its own: a trailing `-- comment` must not swallow the closing parenthesis.
    const relation = config.table ? tableRef(config.table) : `(${config.query!.trim().replace(/;\s*$/, '')}\n) AS q`;
    const columns = await reader.columns(`SELECT ${projection} FROM ${relation}`);
    const from = `SELECT ${columns.map((c) => c.select).join(', ')} FROM ${relation}`;
    let keys: Plan['keys'] = [];
    if (config.cursor) {
      const tie = config.cursor.tieBreaker ? [config.cursor.tieBreaker].flat() : await reader.primaryKey(config.table!);
      if (tie.length === 0) {
        throw new TributaryError(
          'CONFIG_INVALID',
          `${where}.cursor.tieBreaker: ${config.table} has no primary key: name the columns that order rows sharing a cursor value`,
        );
      }
      const all = await reader.columns(`SELECT * FROM ${tableRef(config.table!)}`);
      keys = [config.cursor.column, ...tie.filter((t) => t !== config.cursor!.column)].map((name) => {
        const column = all.find((c) => c.name === name);
        if (!column)
          throw new TributaryError(
            'CONFIG_INVALID',
            `${where}.cursor: ${config.table} has no column "${name}" (columns: ${all.map((c) => c.name).join(', ')})`,
          );
        // Values kept as text must compare back exactly: not floats (rounded) nor binary strings (not text).
        if (/float|double|real|binary|blob|bytea|json/i.test(column.sourceType)) {
          throw new TributaryError('CONFIG_INVALID', `${where}.cursor: "${name}" is ${column.sourceType}, which cannot order rows exactly as text`, {
            hint: 'use an integer, decimal, date, time or text column as the cursor and tie-breaker',
          });
        }
        return { name, type: column.sourceType };
      });
      for (const k of keys)
        if (!columns.some((c) => c.name === k.name)) throw new TributaryError('CONFIG_INVALID', `${where}.columns: include the cursor column "${k.name}"`);
    }
    let primaryKey: string[] = [];
    if (config.disposition === 'merge') {
      primaryKey = config.primaryKey ? [config.primaryKey].flat() : await reader.primaryKey(config.table!);
      if (primaryKey.length === 0)
        throw new TributaryError('CONFIG_INVALID', `${where}.primaryKey: ${config.table} has no primary key: name the columns that identify a row`);
      for (const k of [...primaryKey, ...(config.softDelete ? [config.softDelete] : [])]) {
        if (!columns.some((c) => c.name === k))
          throw new TributaryError('CONFIG_INVALID', `${where}: no column "${k}" among those read (${columns.map((c) => c.name).join(', ')})`);
      }
    }
    return { reader, columns, from, keys, primaryKey };
  } catch (err) {
    await reader.close();
    throw err;
  }
}

/** Rows past the state: `(cursor, tie…) > (last…)`, or from the initial value; '' for every row. */
/**
 * Rows past the state: `(cursor, tie…) > (last…)`, or from the initial value. A row whose cursor or tie-breaker is
 * NULL has no place in that order: it is never read (docs/sources.md says so).
 */
function pastState(plan: Plan, config: SqlSourceConfig, state: CursorState): string {
  const cols = plan.keys.map((k) => plan.reader.quoteIdent(k.name));
  const lit = (v: string, i: number) => plan.reader.literal(v, plan.keys[i]!.type);
  const known = cols.map((c) => `${c} IS NOT NULL`).join(' AND ');
  if (state.last) return `${known} AND (${cols.join(', ')}) > (${state.last.map(lit).join(', ')})`;
  if (config.cursor?.initial !== undefined) return `${known} AND ${cols[0]} >= ${lit(String(config.cursor.initial), 0)}`;
  return known;
}

/**
 * The cursor and tie-breaker values, as the server's text, of the last row past `past` in (cursor, tie-breaker)
 * order — of the first `limit` rows when given (a batch) — found by the server in its own order (its collation).
 * Undefined: no row.
 */
async function boundary(plan: Plan, table: string, past: string, limit?: number): Promise<string[] | undefined> {
  const { reader, keys } = plan;
  const cols = keys.map((k) => reader.quoteIdent(k.name));
  const where = past ? ` WHERE ${past}` : '';
  const rows =
    limit === undefined
      ? `${reader.tableRef(table)}${where}`
      : `(SELECT ${cols.join(', ')} FROM ${reader.tableRef(table)}${where} ORDER BY ${cols.join(', ')} LIMIT ${limit}) AS b`;
  const [row] = await reader.query<Record<string, string>>(
    `SELECT ${cols.map((c, i) => `${reader.asText(c)} AS k${i}`).join(', ')} FROM ${rows} ORDER BY ${cols.map((c) => `${c} DESC`).join(', ')} LIMIT 1`,
  );
  return row ? keys.map((_, i) => row[`k${i}`]!) : undefined;
}

/** `(cursor, tie…) <= (last…)`: the rows up to a boundary. */
function upTo(plan: Plan, last: readonly string[]): string {
  return `(${plan.keys.map((k) => plan.reader.quoteIdent(k.name)).join(', ')}) <= (${last.map((v, i) => plan.reader.literal(v, plan.keys[i]!.type)).join(', ')})`;
}

function postgres(reader: SqlReader): PostgresReader {
  if (!(reader instanceof PostgresReader)) throw new TributaryError('CONFIG_INVALID', `${reader.where}: disposition 'cdc' reads PostgreSQL only`);
  return reader;
}

export const sqlConnector: SourceConnector<SqlSourceConfig> = {
  kind: 'sql',
  schema: sqlSourceSchema,
  writes: (config) => [config.into, ...(config.current ? [config.current] : [])],

  async plan(ctx, config) {
    if (config.disposition === 'cdc') {
      const state = await ctx.lake.catalog.sourceStates.get(ctx.name);
      if (!state) return { upToDate: false, summary: `${config.table} has no snapshot yet`, warnings: [] };
      const plan = await open(ctx, config);
      try {
        const slot = slotName(ctx.name, config);
        const pending = await plan.reader.query(
          `SELECT 1 FROM pg_logical_slot_peek_binary_changes('${slot}', NULL, 1, 'proto_version', '1', 'publication_names', ${postgres(plan.reader).literal(config.publication ?? slot, 'text')})`,
        );
        return {
          upToDate: pending.length === 0,
          summary: pending.length
            ? `changes of ${config.table} past ${(state.state as { lsn: string }).lsn}`
            : `no change of ${config.table} since ${(state.state as { lsn: string }).lsn}`,
          warnings: [],
        };
      } finally {
        await plan.reader.close();
      }
    }
    if (!config.cursor) return { upToDate: false, summary: `${config.table ?? 'the query'} is read whole at every run`, warnings: [] };
    const plan = await open(ctx, config);
    try {
      const state = ((await ctx.lake.catalog.sourceStates.get(ctx.name))?.state ?? {}) as CursorState;
      const past = pastState(plan, config, state);
      const [row] = await plan.reader.query<{ n: string }>(`SELECT count(*) AS n FROM ${plan.reader.tableRef(config.table!)}${past ? ` WHERE ${past}` : ''}`);
      const n = Number(row?.n ?? 0);
      return {
        upToDate: n === 0,
        summary: `${n} row(s) of ${config.table} past ${state.last ? `${plan.keys[0]!.name} ${state.last[0]}` : 'the start'}`,
        warnings: [],
      };
    } finally {
      await plan.reader.close();
    }
  },

  async ingest(ctx, config) {
    const plan = await open(ctx, config);
    try {
      if (config.disposition === 'cdc') return await ingestChanges(ctx, config, postgres(plan.reader), plan.columns);
      if (config.disposition === 'append') return await appendPastCursor(ctx, config, plan);
      if (config.disposition === 'merge') return await mergeByKey(ctx, config, plan);
      return await replaceWhole(ctx, config, plan);
    } catch (err) {
      // DuckDB cannot parse the server's CSV: in practice, a quoted value longer than its line limit.
      const message = err instanceof Error ? err.message : String(err);
      if (/CSV (Error|Reader)/i.test(message)) {
        throw new TributaryError(
          'INVALID_INPUT',
          `sources.${ctx.name}: the rows of ${config.table ?? 'the query'} could not be read back (${message
            .split('\n')
            .find((l) => /CSV Error|quote|line size/i.test(l))
            ?.trim()}): a row is probably longer than maxRowBytes (${config.maxRowBytes ?? 16 * 1024 * 1024} bytes as text); nothing was committed`,
          { hint: `raise sources.${ctx.name}.maxRowBytes`, cause: err },
        );
      }
      throw err;
    } finally {
      await plan.reader.close();
    }
  },
};

/** `replace`: the whole table (or query) into a new snapshot that replaces the previous one. */
async function replaceWhole(ctx: SourceContext, config: SqlSourceConfig, plan: Plan) {
  const table = parseTableName(config.into, `sources.${ctx.name}.into`).name;
  const report = emptyReport(ctx.name, table);
  const file = scratch(ctx);
  try {
    ctx.onProgress?.({ source: ctx.name, phase: 'reading', done: 0, total: 1 });
    const copied = await plan.reader.copy(plan.from, file);
    const batchId = newId('b');
    const { written, rejects, rejectedRows, schemaChanges } = await writeContracted(
      ctx,
      config,
      table,
      readCsv(file, plan.columns, config.maxRowBytes),
      lineageColumns(ctx.name, batchId),
      (select) => ctx.lake.writeFiles(table, select, { preserveOrder: false }),
    );
    if (written.rowCount + rejectedRows !== copied) {
      await ctx.lake.abandon([...written.files, ...(rejects?.addFiles ?? [])]);
      throw miscounted(ctx, config, copied, written.rowCount + rejectedRows);
    }
    report.schemaChanges.push(...schemaChanges);
    report.rejectedRows = rejectedRows;
    ctx.onProgress?.({ source: ctx.name, phase: 'committing', done: 1, total: 1 });
    const describe = `${config.table ?? 'query'} (${written.rowCount} rows, full)`;
    const result = await ctx.lake.commit({
      ...(ctx.runId ? { runId: ctx.runId } : {}),
      changes: [ctx.lake.change(written, 'overwrite', { source: ctx.name, batch: describe }), ...(rejects ? [rejects] : [])],
    });
    report.discovered = 1;
    const hash = createHash('sha256').update(`${batchId}`).digest('hex');
    report.ingested.push({ path: describe, hash, rows: written.rowCount, rejectedRows, snapshotId: result.snapshots[table]!, replacedRows: 0 });
    report.rows = written.rowCount;
    return report;
  } finally {
    rmSync(file, { force: true });
  }
}

const NEW_ROWS = '__tributary_sql_merge';

/**
 * `merge`: the rows read (the whole table, or those past the cursor) replace the lake table's rows with the same
 * key; other rows stay; rows the source marks deleted (`softDelete`) are taken out. One commit, conditional on the
 * snapshot it merged into, with the cursor's new value when there is one.
 */
async function mergeByKey(ctx: SourceContext, config: SqlSourceConfig, plan: Plan) {
  const table = parseTableName(config.into, `sources.${ctx.name}.into`).name;
  const report = emptyReport(ctx.name, table);
  const { reader, keys } = plan;
  const committed = await ctx.lake.catalog.sourceStates.get(ctx.name);
  const state = (committed?.state ?? {}) as CursorState;
  let next: CursorState | undefined;
  let copy = plan.from;
  if (config.cursor) {
    const past = pastState(plan, config, state);
    const last = await boundary(plan, config.table!, past);
    if (!last) return report; // nothing past the cursor
    copy = `${plan.from} WHERE ${past ? `${past} AND ` : ''}${upTo(plan, last)}`;
    next = { last };
  }
  const file = scratch(ctx);
  const engine = ctx.lake.engine;
  try {
    ctx.onProgress?.({ source: ctx.name, phase: 'reading', done: 0, total: 1 });
    const copied = await reader.copy(copy, file);
    const batchId = newId('b');
    const lineage = lineageColumns(ctx.name, batchId);
    const contract = resolveSchemaContract(ctx.lake, table, { name: ctx.name, schemaContract: config.schemaContract });
    const planned = await contractBatch(ctx.lake, contract, readCsv(file, plan.columns, config.maxRowBytes), `sources.${ctx.name}`);
    await engine.run(`CREATE OR REPLACE TEMP TABLE ${NEW_ROWS} AS SELECT *, ${lineage} FROM (${planned.select})`);
    const rejects = await writeRejects(ctx.lake, table, planned.rejects && `SELECT *, ${lineage} FROM (${planned.rejects})`, { source: ctx.name });
    const read = Number((await engine.query(`SELECT count(*) AS n FROM ${NEW_ROWS}`)).rows[0]!.n);
    if (read + rejects.rows !== copied) {
      await ctx.lake.abandon(rejects.change?.addFiles ?? []);
      throw miscounted(ctx, config, copied, read + rejects.rows);
    }
    report.schemaChanges.push(...planned.changes, ...planned.discarded.map((c) => `column ${c} dropped (${policy(contract, 'columns')})`));
    report.rejectedRows = rejects.rows;
    // A boolean that is true; a number that is not 0 (MySQL's BIT(1) and TINYINT flags); anything else that is set.
    const flag = config.softDelete ? plan.columns.find((c) => c.name === config.softDelete)!.duckType : undefined;
    const deleted = !config.softDelete
      ? 'false'
      : flag === 'BOOLEAN'
        ? `${duckIdent(config.softDelete)} IS TRUE`
        : /INT|DECIMAL|FLOAT|DOUBLE/.test(flag ?? '')
          ? `coalesce(${duckIdent(config.softDelete)} <> 0, false)`
          : `${duckIdent(config.softDelete)} IS NOT NULL`;
    const same = plan.primaryKey.map((k) => `n.${duckIdent(k)} IS NOT DISTINCT FROM e.${duckIdent(k)}`).join(' AND ');
    const current = (await ctx.lake.catalog.getTable(table)) ? await ctx.lake.catalog.resolveSnapshot(table) : undefined;
    const kept = current
      ? `SELECT * FROM (${await ctx.lake.selectOfFiles(current.files, current.snapshot.schema)}) AS e WHERE NOT EXISTS (SELECT 1 FROM ${NEW_ROWS} AS n WHERE ${same}) UNION ALL BY NAME `
      : '';
    const written = await ctx.lake.writeFiles(table, `${kept}SELECT * FROM ${NEW_ROWS} WHERE NOT (${deleted})`, { preserveOrder: false });
    ctx.onProgress?.({ source: ctx.name, phase: 'committing', done: 1, total: 1 });
    const describe = `${read} row(s) of ${config.table ?? 'the query'} merged on ${plan.primaryKey.join(', ')}${next ? ` up to ${keys[0]!.name} ${next.last![0]}` : ''}`;
    const result = await ctx.lake.commit({
      ...(ctx.runId ? { runId: ctx.runId } : {}),
      changes: [
        {
          ...ctx.lake.change(written, 'overwrite', { source: ctx.name, batch: describe }),
          operation: 'merge',
          expectedSnapshot: current?.snapshot.snapshotId ?? 0,
        },
        ...(rejects.change ? [rejects.change] : []),
      ],
      parts: next ? [ctx.lake.catalog.sourceStates.advance({ source: ctx.name, expectedVersion: committed?.version ?? 0, state: next })] : [],
    });
    report.discovered = 1;
    const hash = createHash('sha256')
      .update(JSON.stringify(next ?? batchId))
      .digest('hex');
    report.ingested.push({ path: describe, hash, rows: read, rejectedRows: rejects.rows, snapshotId: result.snapshots[table]!, replacedRows: 0 });
    report.rows = read;
    return report;
  } finally {
    rmSync(file, { force: true });
    await engine.run(`DROP TABLE IF EXISTS ${NEW_ROWS}`).catch(() => undefined);
  }
}

/**
 * `append` with `cursor.lookback`: the rows within the lookback of the last committed cursor value and up to it
 * (rows a late transaction committed behind the cursor), without those the lake already holds (same cursor and
 * tie-breaker values). A batch of its own, committed with the state unchanged; none when nothing is new.
 */
async function lateRows(ctx: SourceContext, config: SqlSourceConfig, plan: Plan, last: string[], lookback: number | string): Promise<SourceBatch | undefined> {
  const { reader, keys } = plan;
  const table = parseTableName(config.into, `sources.${ctx.name}.into`).name;
  const existing = (await ctx.lake.catalog.getTable(table)) ? await ctx.lake.catalog.resolveSnapshot(table) : undefined;
  if (!existing) return undefined;
  const cols = keys.map((k) => reader.quoteIdent(k.name));
  const lastCursor = reader.literal(last[0]!, keys[0]!.type);
  const from =
    typeof lookback === 'number'
      ? `(${lastCursor} - ${lookback})`
      : reader.minusSeconds(lastCursor, toMillis(lookback, `sources.${ctx.name}.cursor.lookback`) / 1000);
  const window = `${cols.map((c) => `${c} IS NOT NULL`).join(' AND ')} AND ${cols[0]} >= ${from} AND (${cols.join(', ')}) <= (${last.map((v, i) => reader.literal(v, keys[i]!.type)).join(', ')})`;
  const file = scratch(ctx);
  try {
    const copied = await reader.copy(`${plan.from} WHERE ${window}`, file);
    const csv = readCsv(file, plan.columns, config.maxRowBytes);
    const parsed = Number((await ctx.lake.engine.query(`SELECT count(*) AS n FROM (${csv})`)).rows[0]!.n);
    if (parsed !== copied) throw miscounted(ctx, config, copied, parsed);
    const same = keys.map((k) => `e.${duckIdent(k.name)} IS NOT DISTINCT FROM n.${duckIdent(k.name)}`).join(' AND ');
    const select = `SELECT * FROM (${csv}) AS n WHERE NOT EXISTS (SELECT 1 FROM (${await ctx.lake.selectOfFiles(existing.files, existing.snapshot.schema)}) AS e WHERE ${same})`;
    const fresh = Number((await ctx.lake.engine.query(`SELECT count(*) AS n FROM (${select})`)).rows[0]!.n);
    if (fresh === 0) {
      rmSync(file, { force: true });
      return undefined;
    }
    return {
      select,
      state: { last } satisfies CursorState,
      describe: `${fresh} late row(s) of ${config.table} within ${lookback} of ${keys[0]!.name} ${last[0]}`,
      expectedRows: fresh,
      release: async () => rmSync(file, { force: true }),
    };
  } catch (err) {
    rmSync(file, { force: true });
    throw err;
  }
}

/** `append`: batches of rows past the cursor, in (cursor, tie-breaker) order, each committed with its last row's keys. */
function appendPastCursor(ctx: SourceContext, config: SqlSourceConfig, plan: Plan) {
  const batchSize = config.batchSize ?? 500_000;
  const { reader } = plan;
  const cols = plan.keys.map((k) => reader.quoteIdent(k.name));
  const order = cols.join(', ');
  return appendBatches(ctx, config, async function* (committed): AsyncIterable<SourceBatch> {
    let state = (committed ?? {}) as CursorState;
    const lookback = config.cursor?.lookback;
    if (lookback !== undefined && state.last) {
      const late = await lateRows(ctx, config, plan, state.last, lookback);
      if (late) yield late;
    }
    for (;;) {
      const past = pastState(plan, config, state);
      // The batch's last row, then the batch up to it: rows sharing the last cursor value are kept apart by the
      // tie-breaker, never split or repeated.
      const last = await boundary(plan, config.table!, past, batchSize);
      if (!last) return;
      const file = scratch(ctx);
      ctx.onProgress?.({ source: ctx.name, phase: 'reading', done: 0, total: 1 });
      let copied: number;
      try {
        copied = await plan.reader.copy(`${plan.from} WHERE ${past ? `${past} AND ` : ''}${upTo(plan, last)} ORDER BY ${order}`, file);
      } catch (err) {
        rmSync(file, { force: true });
        throw err;
      }
      if (copied === 0) {
        // The boundary row exists but the range up to it is empty: its value did not compare back equal to itself.
        rmSync(file, { force: true });
        throw new TributaryError(
          'CONFIG_INVALID',
          `sources.${ctx.name}.cursor: the value ${last.join(', ')} read from ${config.table} does not compare equal to itself`,
          {
            hint: 'use an integer, decimal, date, time or text column as the cursor and tie-breaker',
          },
        );
      }
      const next: CursorState = { last };
      yield {
        select: readCsv(file, plan.columns, config.maxRowBytes),
        state: next,
        describe: `rows of ${config.table} up to ${plan.keys[0]!.name} ${last[0]}`,
        expectedRows: copied,
        miscounted: (written) => miscounted(ctx, config, copied, written),
        release: async () => rmSync(file, { force: true }),
      };
      state = next;
    }
  });
}
