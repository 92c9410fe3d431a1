import { createHash } from 'node:crypto';
import { TributaryError } from '../errors.js';
import { parseTableName } from '../lake/table-name.js';
import { quoteLiteral } from '../engine/sql.js';
import { newId } from '../util/ids.js';
import type { TableChange } from '../catalog/types.js';
import type { WrittenFiles } from '../lake/lake.js';
import { emptyReport, type SourceConfigBase, type SourceContext, type SourceReport } from './connector.js';
import { contractBatch, policy, resolveSchemaContract, writeRejects } from './schema-contract.js';

/** The lineage columns every source's rows get, as a SELECT list: when, from which source, in which batch. */
export function lineageColumns(source: string, batchId: string): string {
  return `CAST(${quoteLiteral(new Date().toISOString())} AS TIMESTAMPTZ) AS _ingested_at, ${quoteLiteral(source)} AS _source, ${quoteLiteral(batchId)} AS _batch_id`;
}

/** A batch written under its table's schema contract: the rows kept, the rows set aside, what changed. */
export interface ContractedWrite {
  written: WrittenFiles;
  /** The rejects table's change (rows `discard_row` set aside), if any. */
  rejects: TableChange | undefined;
  rejectedRows: number;
  /** Schema changes the batch makes or refused columns it dropped, for the report. */
  schemaChanges: string[];
}

/**
 * Writes a batch's rows (`inner`, without lineage) to `table` under the table's schema contract, lineage added: a
 * refused change throws (nothing written), rows `discard_row` sets aside go to `<table>_rejects` with their reason.
 * `write` writes the SELECT of the rows kept (the caller may merge them with the table's rows first).
 */
export async function writeContracted(
  ctx: SourceContext,
  config: SourceConfigBase,
  table: string,
  inner: string,
  lineage: string,
  write: (select: string) => Promise<WrittenFiles>,
  options: { passthrough?: readonly string[] } = {},
): Promise<ContractedWrite> {
  const contract = resolveSchemaContract(ctx.lake, table, { name: ctx.name, schemaContract: config.schemaContract });
  const planned = await contractBatch(ctx.lake, contract, inner, `sources.${ctx.name}`, options);
  const written = await write(`SELECT *, ${lineage} FROM (${planned.select})`);
  let rejects: Awaited<ReturnType<typeof writeRejects>>;
  try {
    rejects = await writeRejects(ctx.lake, table, planned.rejects && `SELECT *, ${lineage} FROM (${planned.rejects})`, { source: ctx.name });
  } catch (err) {
    await ctx.lake.abandon(written.files);
    throw err;
  }
  const dropped = planned.discarded.map((c) => `column ${c} dropped (${policy(contract, 'columns')})`);
  return { written, rejects: rejects.change, rejectedRows: rejects.rows, schemaChanges: [...planned.changes, ...dropped] };
}

/** A batch of a cursor-style source: a DuckDB relation holding its rows, and the state once they are committed. */
export interface SourceBatch {
  /** A SELECT DuckDB can run (over a temporary table the connector filled, a file it fetched…). */
  select: string;
  /** The source's state after this batch (a cursor value, a replication position, a page token). */
  state: unknown;
  /** What the batch covers, for reports: `rows with id > 1200`, `page 3`. */
  describe: string;
  /**
   * Rows the batch must hold, when the connector knows (it counted them as they came): a different count written
   * means rows were lost or invented on the way (a reader's limit), and the batch is refused before its commit.
   */
  expectedRows?: number;
  /** The error to raise when the rows written are not `expectedRows`. */
  miscounted?: (written: number) => Error;
  /** Called once the batch is committed or failed: drop its temporary table, delete its temporary file. */
  release?: () => Promise<void>;
}

/**
 * Ingests a cursor-style source: `read` gets the committed state (undefined the first time) and yields batches in
 * order; each batch's rows are written to Parquet by DuckDB and committed with its state in one transaction,
 * conditional on the state version it started from. A crash after a commit resumes after that batch; a crash before
 * it repeats that batch only (its files were never visible); a second run of the same source that started from the
 * same state loses the race with COMMIT_CONFLICT instead of committing the rows twice.
 *
 * Rows get the lineage columns `_ingested_at`, `_source` and `_batch_id` (a file source adds its file columns).
 */
export async function appendBatches(ctx: SourceContext, config: SourceConfigBase, read: (state: unknown) => AsyncIterable<SourceBatch>): Promise<SourceReport> {
  const table = parseTableName(config.into, `sources.${ctx.name}.into`).name;
  const report = emptyReport(ctx.name, table);
  const committed = await ctx.lake.catalog.sourceStates.get(ctx.name);
  let version = committed?.version ?? 0;
  for await (const batch of read(committed?.state)) {
    report.discovered++;
    try {
      const batchId = newId('b');
      const { written, rejects, rejectedRows, schemaChanges } = await writeContracted(
        ctx,
        config,
        table,
        batch.select,
        lineageColumns(ctx.name, batchId),
        (select) => ctx.lake.writeFiles(table, select),
      );
      if (batch.expectedRows !== undefined && written.rowCount + rejectedRows !== batch.expectedRows) {
        await ctx.lake.abandon([...written.files, ...(rejects?.addFiles ?? [])]);
        throw (
          batch.miscounted?.(written.rowCount) ??
          new TributaryError(
            'INGEST_FAILED',
            `sources.${ctx.name}: ${batch.describe}: ${batch.expectedRows} row(s) read but ${written.rowCount} written; nothing committed`,
          )
        );
      }
      const result = await ctx.lake.commit({
        ...(ctx.runId ? { runId: ctx.runId } : {}),
        changes: [ctx.lake.change(written, 'append', { source: ctx.name, batch: batch.describe }), ...(rejects ? [rejects] : [])],
        parts: [ctx.lake.catalog.sourceStates.advance({ source: ctx.name, expectedVersion: version, state: batch.state })],
      });
      version++;
      const hash = createHash('sha256').update(JSON.stringify(batch.state)).digest('hex');
      report.ingested.push({ path: batch.describe, hash, rows: written.rowCount, rejectedRows, snapshotId: result.snapshots[table]!, replacedRows: 0 });
      report.rows += written.rowCount;
      report.rejectedRows += rejectedRows;
      for (const c of schemaChanges) if (!report.schemaChanges.includes(c)) report.schemaChanges.push(c);
      ctx.onProgress?.({ source: ctx.name, phase: 'committing', done: report.discovered, total: report.discovered });
    } finally {
      await batch.release?.();
    }
  }
  return report;
}
