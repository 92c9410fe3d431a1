import { TributaryError } from '../errors.js';
import { newId } from '../util/ids.js';
import type { Orchestration } from './orchestration.js';
import { partitionKey, partitionRange } from './partitions.js';
import type { FinishedRun } from '../catalog/stores/run-queue.js';

/** Backfill runs queue behind scheduled and manual runs (which have priority 0). */
export const BACKFILL_PRIORITY = 10;

export interface BackfillPlan {
  job: string;
  /** Partitions to run, with why: never run, or their last run failed or was cancelled. */
  planned: { partition: string; reason: 'missing' | 'failed' | 'cancelled' }[];
  /** Partitions left alone: succeeded, or a run of them is queued or running. */
  skipped: { partition: string; status: string }[];
}

export interface BackfillStatus {
  backfillId: string;
  job: string;
  status: 'running' | 'success' | 'failed' | 'cancelled';
  parallelism: number;
  createdAt: Date;
  finishedAt: Date | undefined;
  partitions: { partition: string; status: string; runId: string | undefined }[];
}

/** The partitions of `job` between `from` and `to` (included) that have no successful or ongoing run. */
export async function planBackfill(orch: Orchestration, jobName: string, from: string, to: string): Promise<BackfillPlan> {
  const job = orch.job(jobName);
  if (!job.partitions)
    throw new TributaryError('INVALID_INPUT', `job ${jobName} is not partitioned: nothing to backfill`, { hint: `declare jobs.${jobName}.partitions` });
  const start = partitionKey(job.partitions.granularity, job.partitions.start, `jobs.${jobName}.partitions.start`);
  const keys = partitionRange(job.partitions.granularity, from, to);
  if (keys[0]! < start) throw new TributaryError('INVALID_INPUT', `--from ${keys[0]} is before the job's first partition (${start})`);
  const latest = await orch.lake.catalog.backfills.latestRunPerPartition(jobName);
  const plan: BackfillPlan = { job: jobName, planned: [], skipped: [] };
  for (const partition of keys) {
    const status = latest.get(partition)?.status;
    if (status === undefined) plan.planned.push({ partition, reason: 'missing' });
    else if (status === 'failed' || status === 'cancelled') plan.planned.push({ partition, reason: status });
    else plan.skipped.push({ partition, status });
  }
  return plan;
}

/** Records a backfill; the scheduler (`feedBackfills`) then queues its runs, `parallelism` at a time. */
export async function createBackfill(orch: Orchestration, plan: BackfillPlan, parallelism: number): Promise<string> {
  if (plan.planned.length === 0)
    throw new TributaryError('CONFLICT', `job ${plan.job}: every partition in the range has succeeded or is running: nothing to backfill`);
  const id = newId('backfill-');
  await orch.lake.catalog.backfills.create(
    id,
    plan.job,
    plan.planned.map((p) => p.partition),
    parallelism,
  );
  return id;
}

/**
 * Moves running backfills on: queues runs for their next partitions while fewer than `parallelism` are active,
 * and closes those whose partitions have all run. A partition is done once a run of it in this backfill succeeded,
 * or failed or was cancelled since the backfill (re)started; a resume queues the others again. Each backfill is
 * moved on in one transaction under its lock, so two schedulers never queue a partition twice.
 */
export async function feedBackfills(orch: Orchestration): Promise<string[]> {
  const store = orch.lake.catalog.backfills;
  const queued: string[] = [];
  for (const id of await store.ids({ running: true })) {
    await store.transaction(async (s) => {
      const found = await store.runningIn(s, id);
      if (!found) return;
      const { backfill: b, runs } = found;
      const since = b.resumedAt?.getTime() ?? 0;
      const done = new Set<string>();
      const busy = new Set<string>();
      const succeeded = new Set<string>();
      for (const r of runs) {
        if (r.status === 'queued' || r.status === 'running') busy.add(r.partition);
        else if (r.status === 'success') {
          done.add(r.partition);
          succeeded.add(r.partition);
        } else if (r.createdAt.getTime() >= since) done.add(r.partition);
      }
      const todo = b.partitions.filter((p) => !done.has(p) && !busy.has(p));
      if (todo.length === 0 && busy.size === 0) {
        await store.setStatusIn(s, id, b.partitions.some((p) => !succeeded.has(p)) ? 'failed' : 'success');
        return;
      }
      const job = orch.job(b.job);
      for (const partition of todo.slice(0, Math.max(0, b.parallelism - busy.size))) {
        queued.push(
          await orch.queue.insertRun(s, orch.runSpec(job, { partition, trigger: 'backfill', detail: id, backfillId: id, priority: BACKFILL_PRIORITY })),
        );
      }
    });
  }
  return queued;
}

/** Cancels a backfill: no more runs are queued, and its queued and running runs are cancelled. */
export async function cancelBackfill(orch: Orchestration, id: string): Promise<FinishedRun[]> {
  const status = await backfillStatus(orch, id);
  if (status.status !== 'running') throw new TributaryError('CONFLICT', `backfill ${id} is already ${status.status}`);
  await orch.lake.catalog.backfills.setStatus(id, 'cancelled');
  const finished: FinishedRun[] = [];
  for (const run of await orch.lake.catalog.runs.list({ backfillId: id, active: true, limit: 1_000_000 })) {
    const closed = await orch.queue.cancel(run.runId).catch(() => undefined);
    if (closed) finished.push(closed);
  }
  return finished;
}

/** Resumes a cancelled (or failed) backfill: partitions without a successful run are queued again. */
export async function resumeBackfill(orch: Orchestration, id: string): Promise<void> {
  const status = await backfillStatus(orch, id);
  if (status.status === 'running') throw new TributaryError('CONFLICT', `backfill ${id} is running`);
  if (status.status === 'success') throw new TributaryError('CONFLICT', `backfill ${id} succeeded: nothing to resume`);
  // Partitions whose runs failed before now get another run (see feedBackfills).
  await orch.lake.catalog.backfills.setStatus(id, 'running');
}

export async function backfillStatus(orch: Orchestration, id: string): Promise<BackfillStatus> {
  const b = await orch.lake.catalog.backfills.get(id);
  if (!b) throw new TributaryError('NOT_FOUND', `no backfill ${id}`, { hint: 'see `tributary backfill ls`' });
  const runs = await orch.lake.catalog.runs.list({ backfillId: id, limit: 1_000_000 });
  const partitions = b.partitions.map((partition) => {
    const run = runs.find((r) => r.partition === partition); // newest first
    return { partition, status: run?.status ?? 'waiting', runId: run?.runId };
  });
  return { backfillId: id, job: b.job, status: b.status, parallelism: b.parallelism, createdAt: b.createdAt, finishedAt: b.finishedAt, partitions };
}

export async function listBackfills(orch: Orchestration): Promise<BackfillStatus[]> {
  return Promise.all((await orch.lake.catalog.backfills.ids({ limit: 50 })).map((id) => backfillStatus(orch, id)));
}
