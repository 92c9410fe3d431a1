import { createWriteStream, rmSync } from 'node:fs';
import { quoteIdent as duckIdent } from '../../engine/sql.js';
import { TributaryError } from '../../errors.js';
import { parseTableName } from '../../lake/table-name.js';
import { newId } from '../../util/ids.js';
import { lineageColumns } from '../batches.js';
import { emptyReport, type SourceContext, type SourceReport } from '../connector.js';
import type { SqlSourceConfig } from './config.js';
import { miscounted, readCsv, scratch } from './csv.js';
import { decode, formatLsn, parseLsn, type RelationColumn, type TupleValue, UNCHANGED } from './pgoutput.js';
import type { PostgresReader } from './postgres.js';
import { csvLine, type SqlColumn } from './reader.js';

/**
 * `disposition: 'cdc'` (PostgreSQL): change data capture through logical replication. The first run creates a
 * publication and a slot (pgoutput) and lands the table as it was at the slot's exported snapshot (`_op =
 * 'snapshot'`); every run then lands the changes committed since (`insert`, `update`, `delete`, `truncate`), in
 * commit order, each with its transaction's commit LSN and time. The last commit LSN landed is the source's state,
 * committed with the rows; the slot is advanced only after that commit, and changes at or before the state are
 * skipped, so a crash at any point neither loses nor repeats a change.
 */

/** The state of a cdc source: the commit LSN of the last transaction landed. */
interface CdcState {
  lsn: string;
}

export function slotName(name: string, config: SqlSourceConfig): string {
  return config.slot ?? `tributary_${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

/** The change rows' own columns, before the table's. */
const META: SqlColumn[] = [
  { name: '_op', sourceType: 'text', duckType: 'VARCHAR', select: '', read: (v) => v },
  { name: '_commit_lsn', sourceType: 'pg_lsn', duckType: 'UBIGINT', select: '', read: (v) => `CAST(${v} AS UBIGINT)` },
  { name: '_lsn', sourceType: 'pg_lsn', duckType: 'UBIGINT', select: '', read: (v) => `CAST(${v} AS UBIGINT)` },
  { name: '_committed_at', sourceType: 'timestamptz', duckType: 'TIMESTAMPTZ', select: '', read: (v) => `CAST(${v} AS TIMESTAMPTZ)` },
  { name: '_unchanged', sourceType: 'text', duckType: 'VARCHAR', select: '', read: (v) => v },
];

/** The table's columns as read from PostgreSQL's text output (what replication sends, and the snapshot then too). */
function textColumns(columns: SqlColumn[], quote: (n: string) => string): SqlColumn[] {
  return columns.map((c) => ({ ...c, select: quote(c.name), ...(c.fromText ? { duckType: c.fromText.duckType, read: c.fromText.read } : {}) }));
}

const BATCH = '__tributary_cdc_batch';

/**
 * The current-state table after a batch of changes (`current`): its rows whose key the batch did not change, and
 * the last change per key the batch made, deletions out; a truncate in the batch drops what came before it.
 */
async function currentAfter(
  ctx: SourceContext,
  current: string,
  key: readonly string[],
  columns: readonly SqlColumn[],
): Promise<{ select: string; base: number }> {
  const engine = ctx.lake.engine;
  const truncated = Number((await engine.query(`SELECT count(*) AS n FROM ${BATCH} WHERE _op = 'truncate'`)).rows[0]!.n) > 0;
  const after = truncated
    ? `AND (_commit_lsn, _lsn) > (SELECT (_commit_lsn, _lsn) FROM ${BATCH} WHERE _op = 'truncate' ORDER BY _commit_lsn DESC, _lsn DESC LIMIT 1)`
    : '';
  const k = key.map(duckIdent).join(', ');
  const latest = `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY ${k} ORDER BY _commit_lsn DESC, _lsn DESC) AS _rn FROM ${BATCH} WHERE _op <> 'truncate' ${after}) WHERE _rn = 1`;
  const values = `SELECT ${columns.map((c) => duckIdent(c.name)).join(', ')}, _ingested_at, _source, _batch_id FROM (${latest}) WHERE _op <> 'delete'`;
  const existing = (await ctx.lake.catalog.getTable(current)) ? await ctx.lake.catalog.resolveSnapshot(current) : undefined;
  if (!existing || truncated) return { select: values, base: existing?.snapshot.snapshotId ?? 0 };
  const same = key.map((c) => `n.${duckIdent(c)} IS NOT DISTINCT FROM e.${duckIdent(c)}`).join(' AND ');
  const kept = `SELECT * FROM (${await ctx.lake.selectOfFiles(existing.files, existing.snapshot.schema)}) AS e WHERE NOT EXISTS (SELECT 1 FROM (${latest}) AS n WHERE ${same})`;
  return { select: `${kept} UNION ALL BY NAME ${values}`, base: existing.snapshot.snapshotId };
}

export async function ingestChanges(ctx: SourceContext, config: SqlSourceConfig, reader: PostgresReader, columns: SqlColumn[]): Promise<SourceReport> {
  const table = parseTableName(config.into, `sources.${ctx.name}.into`).name;
  const current = config.current ? parseTableName(config.current, `sources.${ctx.name}.current`).name : undefined;
  const key = current ? (config.primaryKey ? [config.primaryKey].flat() : await reader.primaryKey(config.table!)) : [];
  if (current && key.length === 0) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `sources.${ctx.name}.primaryKey: ${config.table} has no primary key: name the columns that identify a row, for ${current}`,
    );
  }
  const report = emptyReport(ctx.name, table);
  const slot = slotName(ctx.name, config);
  const publication = config.publication ?? slot;
  const cols = textColumns(columns, (n) => reader.quoteIdent(n));
  const all = [...META, ...cols];
  const lineage = (batchId: string) => lineageColumns(ctx.name, batchId);

  let committed = await ctx.lake.catalog.sourceStates.get(ctx.name);
  if (!committed) {
    // First run, or the first after `tributary sources drop-slot`: publication, a fresh slot, the snapshot.
    const [pub] = await reader.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [publication]);
    if (!pub) await reader.query(`CREATE PUBLICATION ${reader.quoteIdent(publication)} FOR TABLE ${reader.tableRef(config.table!)}`);
    // A slot without a committed state is a first run that did not finish: nothing of it landed, start over.
    await reader.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [slot]);
    const created = await reader.createSlot(slot);
    const file = scratch(ctx);
    try {
      const point = `(${reader.literal(created.consistentPoint, 'pg_lsn')} - '0/0'::pg_lsn)`;
      const copied = await reader.copyInSnapshot(
        created.snapshot,
        `SELECT 'snapshot', ${point}, ${point}, NULL::timestamptz, NULL::text, ${cols.map((c) => c.select).join(', ')} FROM ${reader.tableRef(config.table!)}`,
        file,
      );
      await created.release();
      const batchId = newId('b');
      const written = await ctx.lake.writeFiles(table, `SELECT *, ${lineage(batchId)} FROM (${readCsv(file, all, config.maxRowBytes)})`, {
        preserveOrder: false,
      });
      if (written.rowCount !== copied) throw miscounted(ctx, config, copied, written.rowCount);
      const describe = `snapshot of ${config.table} at ${created.consistentPoint}`;
      const mirror = [];
      if (current) {
        const select = `SELECT ${cols.map((c) => duckIdent(c.name)).join(', ')}, ${lineage(batchId)} FROM (${readCsv(file, all, config.maxRowBytes)})`;
        mirror.push(ctx.lake.change(await ctx.lake.writeFiles(current, select, { preserveOrder: false }), 'overwrite', { source: ctx.name, batch: describe }));
      }
      const result = await ctx.lake.commit({
        ...(ctx.runId ? { runId: ctx.runId } : {}),
        // A fresh start: the table's earlier history (a slot dropped since) is replaced; time travel keeps it.
        changes: [ctx.lake.change(written, 'overwrite', { source: ctx.name, batch: describe }), ...mirror],
        parts: [ctx.lake.catalog.sourceStates.advance({ source: ctx.name, expectedVersion: 0, state: { lsn: created.consistentPoint } satisfies CdcState })],
      });
      report.discovered++;
      report.ingested.push({
        path: describe,
        hash: created.consistentPoint,
        rows: written.rowCount,
        rejectedRows: 0,
        snapshotId: result.snapshots[table]!,
        replacedRows: 0,
      });
      report.rows += written.rowCount;
    } finally {
      await created.release();
      rmSync(file, { force: true });
    }
    committed = await ctx.lake.catalog.sourceStates.get(ctx.name);
  }

  let version = committed!.version;
  let landed = parseLsn((committed!.state as CdcState).lsn);
  const relations = new Map<number, RelationColumn[]>();
  const batchSize = config.batchSize ?? 500_000;
  for (;;) {
    const messages = await reader.query<{ lsn: string; data: Buffer }>(
      `SELECT lsn::text AS lsn, data FROM pg_logical_slot_peek_binary_changes($1, NULL, $2, 'proto_version', '1', 'publication_names', $3)`,
      [slot, batchSize, publication],
    );
    if (messages.length === 0) break;
    const file = scratch(ctx);
    const out = createWriteStream(file);
    let rows = 0;
    let pending: { op: string; lsn: bigint; values: TupleValue[]; oid: number }[] = [];
    let lastCommit: bigint | undefined;
    let lastEnd: bigint | undefined;
    const write = (line: string) => (out.write(line) ? undefined : new Promise<void>((r) => out.once('drain', r)));
    for (const m of messages) {
      const message = decode(m.data);
      const lsn = parseLsn(m.lsn);
      if (message.tag === 'begin') pending = [];
      else if (message.tag === 'relation') relations.set(message.oid, message.columns);
      else if (message.tag === 'insert') pending.push({ op: 'insert', lsn, values: message.row, oid: message.oid });
      else if (message.tag === 'update') pending.push({ op: 'update', lsn, values: message.row, oid: message.oid });
      else if (message.tag === 'delete') pending.push({ op: 'delete', lsn, values: message.old, oid: message.oid });
      else if (message.tag === 'truncate') pending.push({ op: 'truncate', lsn, values: [], oid: 0 });
      else if (message.tag === 'commit') {
        lastEnd = message.endLsn;
        // Landed already (a run that stopped between its commit and the slot's advance): skipped.
        if (message.commitLsn > landed) {
          for (const change of pending) {
            const relation = relations.get(change.oid) ?? [];
            const unchanged: string[] = [];
            const values = columns.map((c) => {
              const at = relation.findIndex((r) => r.name === c.name);
              const v = at < 0 ? null : change.values[at];
              if (v === UNCHANGED) {
                unchanged.push(c.name);
                return null;
              }
              return v ?? null;
            });
            const meta = [
              change.op,
              message.commitLsn.toString(),
              change.lsn.toString(),
              message.commitTime.toISOString(),
              unchanged.length ? unchanged.join(',') : null,
            ];
            await write(csvLine([...meta, ...values]));
            rows++;
          }
          lastCommit = message.commitLsn;
        }
        pending = [];
      }
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    try {
      if (lastCommit !== undefined && rows > 0) {
        const batchId = newId('b');
        await ctx.lake.engine.run(`CREATE OR REPLACE TEMP TABLE ${BATCH} AS SELECT *, ${lineage(batchId)} FROM (${readCsv(file, all, config.maxRowBytes)})`);
        const written = await ctx.lake.writeFiles(table, `SELECT * FROM ${BATCH}`, { preserveOrder: false });
        if (written.rowCount !== rows) throw miscounted(ctx, config, rows, written.rowCount);
        const describe = `${rows} change(s) of ${config.table} up to ${formatLsn(lastCommit)}`;
        const mirror = [];
        if (current) {
          const next = await currentAfter(ctx, current, key, cols);
          const files = await ctx.lake.writeFiles(current, next.select, { preserveOrder: false });
          mirror.push({ ...ctx.lake.change(files, 'overwrite', { source: ctx.name, batch: describe }), operation: 'merge', expectedSnapshot: next.base });
        }
        const result = await ctx.lake.commit({
          ...(ctx.runId ? { runId: ctx.runId } : {}),
          changes: [ctx.lake.change(written, 'append', { source: ctx.name, batch: describe }), ...mirror],
          parts: [
            ctx.lake.catalog.sourceStates.advance({ source: ctx.name, expectedVersion: version, state: { lsn: formatLsn(lastCommit) } satisfies CdcState }),
          ],
        });
        version++;
        landed = lastCommit;
        report.discovered++;
        report.ingested.push({ path: describe, hash: formatLsn(lastCommit), rows, rejectedRows: 0, snapshotId: result.snapshots[table]!, replacedRows: 0 });
        report.rows += rows;
      }
    } finally {
      rmSync(file, { force: true });
      await ctx.lake.engine.run(`DROP TABLE IF EXISTS ${BATCH}`).catch(() => undefined);
    }
    if (lastEnd === undefined) {
      // A transaction larger than a batch: nothing could be landed whole. Never happens with peek, which ends at a
      // transaction's end; said plainly if it ever did.
      throw new TributaryError('SOURCE_UNAVAILABLE', `sources.${ctx.name}: the replication slot ${slot} returned changes without their commit`);
    }
    // Only now, with the changes landed, may the server forget them.
    await reader.query(`SELECT pg_replication_slot_advance($1, $2::pg_lsn)`, [slot, formatLsn(lastEnd)]);
  }
  return report;
}

/**
 * Drops a cdc source's slot and publication, and forgets its state: the server stops keeping WAL for it (a slot
 * nobody reads fills the server's disk). The next ingestion starts over with a new snapshot.
 */
export async function dropCdc(
  ctx: SourceContext,
  config: SqlSourceConfig,
  reader: PostgresReader,
): Promise<{ slot: string; publication: string; dropped: boolean }> {
  const slot = slotName(ctx.name, config);
  const publication = config.publication ?? slot;
  const dropped = (await reader.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [slot])).length > 0;
  await reader.query(`DROP PUBLICATION IF EXISTS ${reader.quoteIdent(publication)}`);
  await ctx.lake.catalog.sourceStates.reset(ctx.name);
  return { slot, publication, dropped };
}

/**
 * The current state of a cdc source's table (for a model or a query): the last change per key, without the keys
 * deleted, and nothing from before the last truncate. `changes` is the lake table, `key` its primary key.
 */
export function currentStateSql(changes: string, key: readonly string[]): string {
  const k = key.map(duckIdent).join(', ');
  return `WITH cut AS (
    SELECT coalesce(max(_commit_lsn), 0) AS c, coalesce(arg_max(_lsn, _commit_lsn), 0) AS l FROM ${changes} WHERE _op = 'truncate'
  )
  SELECT * EXCLUDE (_op, _commit_lsn, _lsn, _committed_at, _unchanged, _rn, c, l) FROM (
    SELECT *, row_number() OVER (PARTITION BY ${k} ORDER BY _commit_lsn DESC, _lsn DESC) AS _rn
      FROM ${changes} CROSS JOIN cut WHERE _op <> 'truncate' AND (_commit_lsn > cut.c OR (_commit_lsn = cut.c AND _lsn > cut.l))
  ) WHERE _rn = 1 AND _op <> 'delete'`;
}
