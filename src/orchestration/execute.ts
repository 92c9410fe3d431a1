import { checkTables } from '../checks/run.js';
import { blocks } from '../checks/checks.js';
import { TributaryError } from '../errors.js';
import { ingestDeclared } from '../ingest/run.js';
import type { Lake } from '../lake/lake.js';
import { runModels } from '../models/run.js';
import { syncStore } from '../store/postgres-sync.js';
import { runStream } from '../streams/worker.js';
import type { Logger } from '../util/logger.js';

export interface TaskContext {
  runId: string;
  partition: string | undefined;
  logger: Logger;
  signal: AbortSignal;
}

/** What a task did, recorded with its attempt and counted by the metrics. */
export interface TaskSummary {
  rowsIn?: number;
  rowsOut?: number;
  filesIngested?: number;
  filesQuarantined?: number;
  rejectedRows?: number;
  checkFailures?: number;
  [key: string]: unknown;
}

/**
 * Materializes one asset under a job's run. Throws on failure; a TributaryError with code CHECKS_FAILED is not
 * worth retrying (the same data would fail the same checks).
 */
export async function executeTask(lake: Lake, task: string, ctx: TaskContext): Promise<TaskSummary> {
  const { logger } = ctx;
  if (task.startsWith('source:')) {
    const name = task.slice('source:'.length);
    const report = await ingestDeclared(lake, name, { runId: ctx.runId, ...(ctx.partition ? { partition: ctx.partition } : {}) });
    logger.info(
      {
        discovered: report.discovered,
        ingested: report.ingested.length,
        unchanged: report.unchanged,
        rows: report.rows,
        rejectedRows: report.rejectedRows,
        quarantined: report.quarantined.length,
      },
      `ingested ${report.ingested.length} file(s) into ${report.table}`,
    );
    for (const q of report.quarantined) logger.warn({ path: q.path, reason: q.reasonCode }, `quarantined ${q.path}: ${q.reason}`);
    return {
      rowsOut: report.rows,
      filesIngested: report.ingested.length,
      filesQuarantined: report.quarantined.length,
      rejectedRows: report.rejectedRows,
      unchanged: report.unchanged,
    };
  }
  if (task.startsWith('check:')) {
    const table = task.slice('check:'.length);
    const report = await checkTables(lake, [table], { runId: ctx.runId });
    const failing = report.results.filter((r) => r.status !== 'pass');
    for (const r of failing)
      logger.warn(
        { check: r.check, status: r.status, failingRows: r.failingRows, severity: r.severity },
        `check ${r.check} on ${table}: ${r.status === 'error' ? r.error : `${r.failingRows} failing row(s)`}`,
      );
    logger.info(`${report.results.length - failing.length}/${report.results.length} checks passed on ${table}`);
    if (report.results.some(blocks)) {
      throw new TributaryError(
        'CHECKS_FAILED',
        `checks failed on ${table}: ${failing
          .filter(blocks)
          .map((r) => r.check)
          .join(', ')}`,
      );
    }
    return { checkFailures: failing.length };
  }
  if (task.startsWith('sync:')) {
    const table = task.slice('sync:'.length);
    if (!lake.config.store) throw new TributaryError('CONFIG_INVALID', 'no store is configured');
    const [report] = await syncStore(lake, lake.config.store, [table]);
    logger.info({ ...report }, report?.skipped ? `${table}: the store already holds snapshot ${report.snapshot}` : `synced ${table}`);
    return { rowsIn: report?.rowsInSnapshot ?? 0, rowsOut: (report?.rowsUpserted ?? 0) + (report?.rowsDeleted ?? 0) };
  }
  if (task.startsWith('stream:')) {
    const name = task.slice('stream:'.length);
    const report = await runStream(lake.config, name, { availableNow: true, signal: ctx.signal });
    logger.info(
      { records: report.records, batches: report.batches, emitted: report.emitted, deadLetters: report.deadLetters, late: report.late },
      `stream ${name}: ${report.records} records`,
    );
    return { rowsIn: report.records, rowsOut: report.emitted, deadLetters: report.deadLetters };
  }
  const report = await runModels(lake, { targets: [task], runId: ctx.runId });
  const outcome = report.models.find((m) => m.model === task);
  if (!outcome) throw new TributaryError('USAGE', `model ${task} is no longer in the project`);
  const failing = outcome.checks.filter((c) => c.status !== 'pass');
  for (const c of failing)
    logger.warn(
      { check: c.check, status: c.status, failingRows: c.failingRows },
      `check ${c.check} on ${task}: ${c.status === 'error' ? c.error : `${c.failingRows} failing row(s)`}`,
    );
  if (outcome.status === 'failed_checks') throw new TributaryError('CHECKS_FAILED', `${task}: ${outcome.error}`);
  if (outcome.status === 'failed' || outcome.status === 'blocked') throw new TributaryError('MODEL_FAILED', `${task}: ${outcome.error}`);
  logger.info(
    { status: outcome.status, mode: outcome.mode, rowsIn: outcome.rowsIn, rowsOut: outcome.rowsOut, snapshot: outcome.snapshotId },
    outcome.status === 'fresh' ? `${task} is fresh (inputs unchanged)` : `built ${task}`,
  );
  return { rowsIn: outcome.rowsIn ?? 0, rowsOut: outcome.rowsOut ?? 0, checkFailures: failing.length, status: outcome.status };
}
