import { TributaryError } from '../errors.js';
import { newId } from '../util/ids.js';
import type { Orchestration } from './orchestration.js';
import { partitionKey, partitionRange } from './partitions.js';
import type { FinishedRun } from './queue.js';

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
    throw new TributaryError('USAGE', `job ${jobName} is not partitioned: nothing to backfill`, { hint: `declare jobs.${jobName}.partitions` });
  const start = partitionKey(job.partitions.granularity, job.partitions.start, `jobs.${jobName}.partitions.start`);
  const keys = partitionRange(job.partitions.granularity, from, to);
  if (keys[0]! < start) throw new TributaryError('USAGE', `--from ${keys[0]} is before the job's first partition (${start})`);
  const latest = await latestRunPerPartition(orch, jobName);
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
    throw new TributaryError('USAGE', `job ${plan.job}: every partition in the range has succeeded or is running: nothing to backfill`);
  const id = newId('backfill-');
  await orch.lake.catalog.driver.transaction((s) =>
    s.query(
      `INSERT INTO backfills (backfill_id, job, partitions_json, parallelism, status, created_at) VALUES ($1, $2, $3, $4, 'running', CAST($5 AS TIMESTAMPTZ))`,
      [id, plan.job, JSON.stringify(plan.planned.map((p) => p.partition)), parallelism, new Date().toISOString()],
    ),
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
  const driver = orch.lake.catalog.driver;
  const backfills = await driver.read((s) => s.query(`SELECT backfill_id FROM backfills WHERE status = 'running' ORDER BY created_at`));
  const queued: string[] = [];
  for (const { backfill_id } of backfills) {
    const id = String(backfill_id);
    await driver.transaction(async (s) => {
      await driver.lock(s, `backfill:${id}`);
      const [b] = await s.query(`SELECT * FROM backfills WHERE backfill_id = $1 AND status = 'running'`, [id]);
      if (!b) return;
      const partitions = JSON.parse(String(b.partitions_json)) as string[];
      const since = (b.resumed_at as Date | null)?.getTime() ?? 0;
      const runs = await s.query(`SELECT r.status, j.partition_key, j.created_at FROM runs r JOIN job_runs j ON j.run_id = r.run_id WHERE j.backfill_id = $1`, [
        id,
      ]);
      const done = new Set<string>();
      const busy = new Set<string>();
      const succeeded = new Set<string>();
      for (const r of runs) {
        const partition = String(r.partition_key);
        const status = String(r.status);
        if (status === 'queued' || status === 'running') busy.add(partition);
        else if (status === 'success') {
          done.add(partition);
          succeeded.add(partition);
        } else if ((r.created_at as Date).getTime() >= since) done.add(partition);
      }
      const todo = partitions.filter((p) => !done.has(p) && !busy.has(p));
      if (todo.length === 0 && busy.size === 0) {
        const failed = partitions.some((p) => !succeeded.has(p));
        await s.query(`UPDATE backfills SET status = $2, finished_at = CAST($3 AS TIMESTAMPTZ) WHERE backfill_id = $1`, [
          id,
          failed ? 'failed' : 'success',
          new Date().toISOString(),
        ]);
        return;
      }
      const job = orch.job(String(b.job));
      for (const partition of todo.slice(0, Math.max(0, Number(b.parallelism) - busy.size))) {
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
  if (status.status !== 'running') throw new TributaryError('USAGE', `backfill ${id} is already ${status.status}`);
  await orch.lake.catalog.driver.transaction((s) =>
    s.query(`UPDATE backfills SET status = 'cancelled', finished_at = CAST($2 AS TIMESTAMPTZ) WHERE backfill_id = $1`, [id, new Date().toISOString()]),
  );
  const finished: FinishedRun[] = [];
  for (const run of await orch.queue.listRuns({ backfillId: id, active: true, limit: 1_000_000 })) {
    const closed = await orch.queue.cancel(run.runId).catch(() => undefined);
    if (closed) finished.push(closed);
  }
  return finished;
}

/** Resumes a cancelled (or failed) backfill: partitions without a successful run are queued again. */
export async function resumeBackfill(orch: Orchestration, id: string): Promise<void> {
  const status = await backfillStatus(orch, id);
  if (status.status === 'running') throw new TributaryError('USAGE', `backfill ${id} is running`);
  if (status.status === 'success') throw new TributaryError('USAGE', `backfill ${id} succeeded: nothing to resume`);
  // Partitions whose runs failed before now get another run (see feedBackfills).
  await orch.lake.catalog.driver.transaction((s) =>
    s.query(`UPDATE backfills SET status = 'running', finished_at = NULL, resumed_at = CAST($2 AS TIMESTAMPTZ) WHERE backfill_id = $1`, [
      id,
      new Date().toISOString(),
    ]),
  );
}

export async function backfillStatus(orch: Orchestration, id: string): Promise<BackfillStatus> {
  const rows = await orch.lake.catalog.driver.read((s) => s.query(`SELECT * FROM backfills WHERE backfill_id = $1`, [id]));
  const b = rows[0];
  if (!b) throw new TributaryError('USAGE', `no backfill ${id}`, { hint: 'see `tributary backfill ls`' });
  const runs = await orch.queue.listRuns({ backfillId: id, limit: 1_000_000 });
  const partitions = (JSON.parse(String(b.partitions_json)) as string[]).map((partition) => {
    const run = runs.find((r) => r.partition === partition); // newest first
    return { partition, status: run?.status ?? 'waiting', runId: run?.runId };
  });
  return {
    backfillId: id,
    job: String(b.job),
    status: String(b.status) as BackfillStatus['status'],
    parallelism: Number(b.parallelism),
    createdAt: b.created_at as Date,
    finishedAt: (b.finished_at as Date | null) ?? undefined,
    partitions,
  };
}

export async function listBackfills(orch: Orchestration): Promise<BackfillStatus[]> {
  const rows = await orch.lake.catalog.driver.read((s) => s.query(`SELECT backfill_id FROM backfills ORDER BY created_at DESC LIMIT 50`));
  return Promise.all(rows.map((r) => backfillStatus(orch, String(r.backfill_id))));
}

async function latestRunPerPartition(orch: Orchestration, job: string): Promise<Map<string, { status: string; runId: string }>> {
  const rows = await orch.lake.catalog.driver.read((s) =>
    s.query(
      `SELECT j.partition_key, r.status, r.run_id FROM runs r JOIN job_runs j ON j.run_id = r.run_id
        WHERE j.job = $1 AND j.partition_key IS NOT NULL ORDER BY j.created_at, r.run_id`,
      [job],
    ),
  );
  const latest = new Map<string, { status: string; runId: string }>();
  for (const r of rows) latest.set(String(r.partition_key), { status: String(r.status), runId: String(r.run_id) });
  return latest;
}
