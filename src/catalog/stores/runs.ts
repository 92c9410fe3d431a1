import { hostname } from 'node:os';
import { TributaryError } from '../../errors.js';
import { processAlive } from '../../util/process.js';
import type { CatalogDriver } from '../driver.js';
import type { RunRecord } from '../types.js';

/** Which runs `list` returns. */
export interface RunFilter {
  /** Only this job's runs. */
  job?: string;
  /** Only the runs of this backfill's partitions. */
  backfillId?: string;
  /** Only queued or running runs. */
  active?: boolean;
  /** Most recent first, at most this many (default 50). */
  limit?: number;
}

const SELECT = `SELECT r.*, j.job, j.trigger_kind, j.trigger_detail, j.partition_key, j.backfill_id, j.parent_run
                  FROM runs r LEFT JOIN job_runs j ON j.run_id = r.run_id`;

/**
 * Runs: one record per run, whoever started it. A command (`ingest`, `run`, `check`, `build`, a stream) starts and
 * finishes its own; a job's run is queued by the run queue (stores/run-queue.ts), which also finishes it, with its
 * job, trigger and partition beside it.
 */
export class Runs {
  constructor(private readonly driver: CatalogDriver) {}

  async start(runId: string, kind: string): Promise<void> {
    // Runs a killed process left behind are closed first, so that `runs ls` and the dashboard never show them running.
    await this.reapAbandoned().catch(() => undefined);
    await this.driver.transaction((s) =>
      s.query(`INSERT INTO runs (run_id, kind, started_at, status, owner_host, owner_pid) VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ), 'running', $4, $5)`, [
        runId,
        kind,
        new Date().toISOString(),
        hostname(),
        process.pid,
      ]),
    );
  }

  async finish(runId: string, status: 'success' | 'failed' | 'partial', summary: unknown, error?: string): Promise<void> {
    await this.driver.transaction((s) =>
      s.query(`UPDATE runs SET finished_at = CAST($2 AS TIMESTAMPTZ), status = $3, summary_json = $4, error = $5 WHERE run_id = $1`, [
        runId,
        new Date().toISOString(),
        status,
        JSON.stringify(summary),
        error ?? null,
      ]),
    );
  }

  /**
   * Marks `abandoned` the runs still `running` whose process, on this machine, is gone (a kill -9, a crash, a
   * power cut): they can never finish. Job runs are the queue's (lost workers are retried there). Returns their ids.
   */
  async reapAbandoned(): Promise<string[]> {
    const rows = await this.driver.read((s) =>
      s.query<{ run_id: string; owner_pid: number }>(
        `SELECT r.run_id, r.owner_pid FROM runs r LEFT JOIN job_runs j ON j.run_id = r.run_id
          WHERE r.status = 'running' AND j.run_id IS NULL AND r.owner_host = $1 AND r.owner_pid IS NOT NULL`,
        [hostname()],
      ),
    );
    const gone = rows.filter((r) => ownerGone(hostname(), Number(r.owner_pid)));
    for (const r of gone) {
      await this.driver.transaction((s) =>
        s.query(`UPDATE runs SET status = 'abandoned', finished_at = CAST($2 AS TIMESTAMPTZ), error = $3 WHERE run_id = $1 AND status = 'running'`, [
          r.run_id,
          new Date().toISOString(),
          abandonedReason(Number(r.owner_pid)),
        ]),
      );
    }
    return gone.map((r) => r.run_id);
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const rows = await this.driver.read((s) => s.query(`${SELECT} WHERE r.run_id = $1`, [runId]));
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /** The run, or NOT_FOUND naming it. */
  async require(runId: string): Promise<RunRecord> {
    const run = await this.get(runId);
    if (!run) throw new TributaryError('NOT_FOUND', `run ${runId} does not exist`, { hint: 'see `tributary runs ls`' });
    return run;
  }

  /** Runs, most recent first. */
  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.job) where.push(`j.job = $${params.push(filter.job)}`);
    if (filter.backfillId) where.push(`j.backfill_id = $${params.push(filter.backfillId)}`);
    if (filter.active) where.push(`r.status IN ('queued', 'running')`);
    const limit = `$${params.push(Math.max(1, filter.limit ?? 50))}`;
    const rows = await this.driver.read((s) =>
      s.query(`${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.started_at DESC, r.run_id DESC LIMIT ${limit}`, params),
    );
    return rows.map(toRun);
  }
}

/** Whether a run's owner was a process of this machine that no longer exists (another machine's cannot be told). */
function ownerGone(host: unknown, pid: number | undefined): pid is number {
  return host === hostname() && pid !== undefined && pid !== process.pid && !processAlive(pid);
}

function abandonedReason(pid: number): string {
  return `abandoned: its process (pid ${pid} on ${hostname()}) ended without finishing the run (killed or crashed); what it committed stays, the rest was never visible`;
}

const optional = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

function toRun(r: Record<string, unknown>): RunRecord {
  // Read as abandoned as soon as its process is gone, before anyone has marked it so.
  const pid = r.owner_pid === null || r.owner_pid === undefined ? undefined : Number(r.owner_pid);
  const abandoned = r.status === 'running' && !r.job && ownerGone(r.owner_host, pid);
  const base = {
    runId: String(r.run_id),
    kind: String(r.kind),
    startedAt: r.started_at as Date,
    finishedAt: (r.finished_at as Date | null) ?? undefined,
    status: abandoned ? 'abandoned' : (String(r.status) as RunRecord['status']),
    summary: r.summary_json ? JSON.parse(String(r.summary_json)) : undefined,
    error: abandoned ? abandonedReason(pid) : optional(r.error),
  };
  const job = optional(r.job);
  if (!job) return base;
  return {
    ...base,
    job,
    trigger: String(r.trigger_kind),
    detail: optional(r.trigger_detail),
    partition: optional(r.partition_key),
    backfillId: optional(r.backfill_id),
    parentRun: optional(r.parent_run),
  };
}
