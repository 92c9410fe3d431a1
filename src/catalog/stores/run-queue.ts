import type { CatalogDriver, CatalogSession, Row } from '../driver.js';
import { TributaryError } from '../../errors.js';
import { newId } from '../../util/ids.js';

/** How a run came to be. */
export type TriggerKind = 'manual' | 'schedule' | 'sensor' | 'automation' | 'backfill' | 'retry';

export interface TaskPolicy {
  /** Attempts allowed in all (1 + retries). */
  maxAttempts: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  timeoutMs: number;
}

export interface RunSpec {
  job: string;
  /** Task keys in dependency order, with the keys each waits for. */
  tasks: { key: string; upstream: string[] }[];
  trigger: TriggerKind;
  /** What fired it: the schedule's tick, the sensor and why, the run retried… */
  detail?: string;
  partition?: string;
  backfillId?: string;
  parentRun?: string;
  /** Lower runs first: scheduled and manual runs 0, backfills 10, so a backfill never holds fresh runs back. */
  priority?: number;
  concurrency: number;
  policy: TaskPolicy;
}

/** A task a worker claimed: it owns this attempt until it reports, or stops heartbeating and is declared lost. */
export interface ClaimedTask {
  runId: string;
  job: string;
  task: string;
  attempt: number;
  partition: string | undefined;
  timeoutMs: number;
}

/**
 * How an attempt ended. `failed` and `timed_out` and `lost` (the worker stopped reporting) are retried while
 * attempts remain, unless `retryable` is false (a check that failed: retrying reads the same data);
 * `interrupted` (the worker was shut down) runs again without counting; `cancelled` ends the task.
 */
export type AttemptStatus = 'success' | 'failed' | 'timed_out' | 'lost' | 'interrupted' | 'cancelled';

export interface AttemptOutcome {
  status: AttemptStatus;
  error?: string;
  retryable?: boolean;
  summary?: Record<string, unknown>;
  logs?: string;
}

export interface FinishedRun {
  runId: string;
  job: string;
  status: 'success' | 'failed' | 'cancelled';
  partition: string | undefined;
  trigger: string;
  error: string | undefined;
  startedAt: Date;
  finishedAt: Date;
}

export type TaskStatus = 'pending' | 'running' | 'success' | 'failed' | 'upstream_failed' | 'cancelled';

export interface TaskInfo {
  task: string;
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  notBefore: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  worker: string | undefined;
  error: string | undefined;
  upstream: string[];
}

export interface AttemptInfo {
  task: string;
  attempt: number;
  worker: string;
  status: string;
  startedAt: Date;
  finishedAt: Date | undefined;
  error: string | undefined;
  summary: Record<string, unknown> | undefined;
  logs: string;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so tasks that failed together
 * (a database restarting) do not all retry at the same instant. `attempt` is the attempt that just failed (1-based).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + random() * (capped / 2));
}

/** Attempt logs kept in the catalog: the end of them, where the error is. */
const MAX_LOG_CHARS = 64 * 1024;

/**
 * The run queue, kept in the catalog: runs, their tasks and dependencies, attempts. Workers in any number of
 * processes claim ready tasks (`FOR UPDATE SKIP LOCKED` on PostgreSQL; the embedded catalog has one writer at a
 * time) and report each attempt; whoever finishes the last task of a run closes the run.
 */
export class RunQueue {
  constructor(private readonly driver: CatalogDriver) {}

  async createRun(spec: RunSpec): Promise<string> {
    return this.driver.transaction((s) => this.insertRun(s, spec));
  }

  /**
   * Compare-and-set of a schedule's or sensor's cursor, with the run it fires in the same transaction: two
   * schedulers evaluating one tick start one run. Returns the run id, or undefined when the cursor had moved.
   */
  async fire(name: string, expected: string | undefined, next: string, spec: RunSpec): Promise<string | undefined> {
    return this.driver.transaction(async (s) => ((await setCursor(s, name, expected, next)) ? this.insertRun(s, spec) : undefined));
  }

  async cursor(name: string): Promise<string | undefined> {
    const rows = await this.driver.read((s) => s.query(`SELECT cursor_json FROM scheduler_state WHERE name = $1`, [name]));
    return rows[0] ? String(rows[0].cursor_json) : undefined;
  }

  async setCursor(name: string, expected: string | undefined, next: string): Promise<boolean> {
    return this.driver.transaction((s) => setCursor(s, name, expected, next));
  }

  /** Queues a run within the caller's transaction (a backfill queues its partitions under its own lock). */
  async insertRun(s: CatalogSession, spec: RunSpec): Promise<string> {
    const runId = newId('job-');
    const now = new Date().toISOString();
    await s.query(`INSERT INTO runs (run_id, kind, started_at, status) VALUES ($1, 'job', CAST($2 AS TIMESTAMPTZ), 'queued')`, [runId, now]);
    await s.query(
      `INSERT INTO job_runs (run_id, job, trigger_kind, trigger_detail, partition_key, backfill_id, parent_run, priority, concurrency, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CAST($10 AS TIMESTAMPTZ))`,
      [
        runId,
        spec.job,
        spec.trigger,
        spec.detail ?? null,
        spec.partition ?? null,
        spec.backfillId ?? null,
        spec.parentRun ?? null,
        spec.priority ?? 0,
        spec.concurrency,
        now,
      ],
    );
    const p = spec.policy;
    for (const [seq, task] of spec.tasks.entries()) {
      await s.query(
        `INSERT INTO run_tasks (run_id, task, seq, status, attempts, max_attempts, retry_delay_ms, max_retry_delay_ms, timeout_ms, not_before)
         VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $7, CAST($8 AS TIMESTAMPTZ))`,
        [runId, task.key, seq, p.maxAttempts, p.retryDelayMs, p.maxRetryDelayMs, p.timeoutMs, now],
      );
      for (const upstream of task.upstream) {
        await s.query(`INSERT INTO run_task_deps (run_id, task, upstream) VALUES ($1, $2, $3)`, [runId, task.key, upstream]);
      }
    }
    return runId;
  }

  /**
   * The next ready task, for `worker`: pending, due, every upstream task succeeded, its run under its concurrency.
   * `scope` limits it to one run or one backfill's runs (a `jobs run` in a terminal executes its own run only).
   */
  async claim(worker: string, scope: { runId?: string; backfillId?: string } = {}): Promise<ClaimedTask | undefined> {
    return this.driver.transaction(async (s) => {
      const now = new Date().toISOString();
      const params: string[] = [now];
      const scoped = [
        scope.runId ? `AND t.run_id = $${params.push(scope.runId)}` : '',
        scope.backfillId ? `AND j.backfill_id = $${params.push(scope.backfillId)}` : '',
      ].join(' ');
      const rows = await s.query(
        `SELECT t.run_id, t.task, t.timeout_ms, j.job, j.partition_key, j.concurrency
           FROM run_tasks t
           JOIN job_runs j ON j.run_id = t.run_id
           JOIN runs r ON r.run_id = t.run_id
          WHERE t.status = 'pending' AND t.not_before <= CAST($1 AS TIMESTAMPTZ) AND r.status IN ('queued', 'running')
            AND NOT EXISTS (SELECT 1 FROM run_task_deps d JOIN run_tasks u ON u.run_id = d.run_id AND u.task = d.upstream
                             WHERE d.run_id = t.run_id AND d.task = t.task AND u.status <> 'success')
            AND (SELECT count(*) FROM run_tasks x WHERE x.run_id = t.run_id AND x.status = 'running') < j.concurrency
            ${scoped}
          ORDER BY j.priority, j.created_at, t.run_id, t.seq
          LIMIT 1 ${this.driver.dialect.claimLocked('t')}`,
        params,
      );
      const row = rows[0];
      if (!row) return undefined;
      const runId = String(row.run_id);
      // Two workers may each pick a task of one run at once: re-count under the run's lock. Without waiting for it:
      // this transaction holds a task row, and whoever holds the run's lock may need that row (deadlock).
      if (!(await this.driver.tryLock(s, `run:${runId}`))) return undefined;
      const running = await s.query(`SELECT count(*) AS n FROM run_tasks WHERE run_id = $1 AND status = 'running'`, [runId]);
      if (Number(running[0]!.n) >= Number(row.concurrency)) return undefined;
      const updated = await s.query(
        `UPDATE run_tasks SET status = 'running', attempts = attempts + 1, worker = $3, heartbeat_at = current_timestamp,
                started_at = COALESCE(started_at, CAST($4 AS TIMESTAMPTZ)), error = NULL
          WHERE run_id = $1 AND task = $2 AND status = 'pending' RETURNING attempts`,
        [runId, String(row.task), worker, now],
      );
      if (!updated[0]) return undefined;
      const attempt = Number(updated[0].attempts);
      await s.query(
        `INSERT INTO task_attempts (run_id, task, attempt, worker, started_at, status) VALUES ($1, $2, $3, $4, CAST($5 AS TIMESTAMPTZ), 'running')`,
        [runId, String(row.task), attempt, worker, now],
      );
      await s.query(`UPDATE runs SET status = 'running' WHERE run_id = $1 AND status = 'queued'`, [runId]);
      return {
        runId,
        job: String(row.job),
        task: String(row.task),
        attempt,
        partition: (row.partition_key as string | null) ?? undefined,
        timeoutMs: Number(row.timeout_ms),
      };
    });
  }

  /**
   * A worker reports its running tasks alive. Returns those to stop: their run was cancelled, or the attempt is no
   * longer the task's current one (it was declared lost while this worker was too slow to report, and may be
   * running elsewhere already).
   */
  async heartbeat(
    worker: string,
    tasks: readonly { runId: string; task: string; attempt: number }[],
  ): Promise<{ runId: string; task: string; reason: 'cancelled' | 'lost' }[]> {
    if (tasks.length === 0) return [];
    return this.driver.transaction(async (s) => {
      const stop: { runId: string; task: string; reason: 'cancelled' | 'lost' }[] = [];
      for (const t of tasks) {
        // The database's clock, as the reaper's: workers on several machines need not agree on the time.
        const alive = await s.query(
          `UPDATE run_tasks SET heartbeat_at = current_timestamp WHERE run_id = $1 AND task = $2 AND attempts = $3 AND worker = $4 AND status = 'running' RETURNING task`,
          [t.runId, t.task, t.attempt, worker],
        );
        const run = await s.query(`SELECT status FROM runs WHERE run_id = $1`, [t.runId]);
        if (run[0]?.status === 'cancelled') stop.push({ runId: t.runId, task: t.task, reason: 'cancelled' });
        else if (!alive[0]) stop.push({ runId: t.runId, task: t.task, reason: 'lost' });
      }
      return stop;
    });
  }

  /**
   * Records how an attempt ended and moves the task on: done, retried after a backoff, or failed (and everything
   * downstream of it with it). Closes the run when nothing is left to do. An attempt that is no longer the task's
   * current one (it was declared lost and retried elsewhere) only has its own record updated.
   */
  async finishAttempt(
    claim: { runId: string; task: string; attempt: number },
    outcome: AttemptOutcome,
    options: { onlyIfSilentFor?: number } = {},
  ): Promise<{ retryAt?: Date; finishedRun?: FinishedRun }> {
    return this.driver.transaction(async (s) => {
      const now = new Date();
      await this.driver.lock(s, `run:${claim.runId}`);
      const current = await s.query(
        `SELECT * FROM run_tasks WHERE run_id = $1 AND task = $2 AND attempts = $3 AND status = 'running'
           ${options.onlyIfSilentFor !== undefined ? 'AND heartbeat_at < current_timestamp - CAST($4 AS INTERVAL)' : ''}`,
        [claim.runId, claim.task, claim.attempt, ...(options.onlyIfSilentFor !== undefined ? [`${options.onlyIfSilentFor} milliseconds`] : [])],
      );
      const task = current[0];
      // The reaper found the worker reporting again meanwhile: nothing is lost.
      if (!task && options.onlyIfSilentFor !== undefined) return {};
      const logs = outcome.logs && outcome.logs.length > MAX_LOG_CHARS ? `…\n${outcome.logs.slice(-MAX_LOG_CHARS)}` : (outcome.logs ?? null);
      await s.query(
        `UPDATE task_attempts SET finished_at = CAST($4 AS TIMESTAMPTZ), status = $5, error = $6, summary_json = $7, logs = COALESCE($8, logs)
          WHERE run_id = $1 AND task = $2 AND attempt = $3 AND status = 'running'`,
        [
          claim.runId,
          claim.task,
          claim.attempt,
          now.toISOString(),
          outcome.status,
          outcome.error ?? null,
          outcome.summary ? JSON.stringify(outcome.summary) : null,
          logs,
        ],
      );
      if (!task) return {};
      const set = (status: TaskStatus, extra: { notBefore?: Date; error?: string | null; maxAttempts?: number } = {}) =>
        s.query(
          `UPDATE run_tasks SET status = $3, finished_at = CAST($4 AS TIMESTAMPTZ), error = $5, not_before = CAST($6 AS TIMESTAMPTZ), max_attempts = $7, worker = CASE WHEN $3 = 'pending' THEN NULL ELSE worker END
            WHERE run_id = $1 AND task = $2`,
          [
            claim.runId,
            claim.task,
            status,
            status === 'pending' ? null : now.toISOString(),
            extra.error ?? null,
            (extra.notBefore ?? now).toISOString(),
            extra.maxAttempts ?? Number(task.max_attempts),
          ],
        );
      let retryAt: Date | undefined;
      const run = await s.query(`SELECT status FROM runs WHERE run_id = $1`, [claim.runId]);
      if (outcome.status === 'success') await set('success');
      else if (outcome.status === 'cancelled' || run[0]?.status === 'cancelled') await set('cancelled', { error: 'cancelled' });
      else if (outcome.status === 'interrupted') await set('pending', { maxAttempts: Number(task.max_attempts) + 1, error: outcome.error });
      else {
        const error = outcome.error ?? outcome.status;
        if (outcome.retryable !== false && claim.attempt < Number(task.max_attempts)) {
          retryAt = new Date(now.getTime() + backoffDelay(claim.attempt, Number(task.retry_delay_ms), Number(task.max_retry_delay_ms)));
          await set('pending', { notBefore: retryAt, error });
        } else {
          await set('failed', { error });
          await this.failDownstream(s, claim.runId, claim.task);
        }
      }
      const finishedRun = await this.closeRunIfDone(s, claim.runId, now);
      return { ...(retryAt ? { retryAt } : {}), ...(finishedRun ? { finishedRun } : {}) };
    });
  }

  private async failDownstream(s: CatalogSession, runId: string, failed: string): Promise<void> {
    const deps = await s.query(`SELECT task, upstream FROM run_task_deps WHERE run_id = $1`, [runId]);
    const stop = new Set<string>([failed]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const d of deps) {
        if (stop.has(String(d.upstream)) && !stop.has(String(d.task))) {
          stop.add(String(d.task));
          grew = true;
        }
      }
    }
    stop.delete(failed);
    for (const task of stop) {
      await s.query(`UPDATE run_tasks SET status = 'upstream_failed', error = $3 WHERE run_id = $1 AND task = $2 AND status = 'pending'`, [
        runId,
        task,
        `not run: ${failed} failed`,
      ]);
    }
  }

  private async closeRunIfDone(s: CatalogSession, runId: string, now: Date): Promise<FinishedRun | undefined> {
    const tasks = await s.query(`SELECT task, status, error FROM run_tasks WHERE run_id = $1 ORDER BY seq`, [runId]);
    if (tasks.some((t) => t.status === 'pending' || t.status === 'running')) return undefined;
    const runRows = await s.query(
      `SELECT r.status, r.started_at, j.job, j.partition_key, j.trigger_kind FROM runs r JOIN job_runs j ON j.run_id = r.run_id WHERE r.run_id = $1`,
      [runId],
    );
    const run = runRows[0]!;
    if (run.status !== 'queued' && run.status !== 'running' && run.status !== 'cancelled') return undefined;
    const counts: Record<string, number> = {};
    for (const t of tasks) counts[String(t.status)] = (counts[String(t.status)] ?? 0) + 1;
    const firstFailure = tasks.find((t) => t.status === 'failed');
    const status: FinishedRun['status'] = run.status === 'cancelled' ? 'cancelled' : firstFailure || counts.upstream_failed ? 'failed' : 'success';
    const error = firstFailure ? `${firstFailure.task}: ${String(firstFailure.error ?? 'failed')}` : undefined;
    const updated = await s.query(
      `UPDATE runs SET status = $2, finished_at = CAST($3 AS TIMESTAMPTZ), summary_json = $4, error = $5 WHERE run_id = $1 AND finished_at IS NULL RETURNING run_id`,
      [runId, status, now.toISOString(), JSON.stringify(counts), error ?? null],
    );
    if (!updated[0]) return undefined;
    return {
      runId,
      job: String(run.job),
      status,
      partition: (run.partition_key as string | null) ?? undefined,
      trigger: String(run.trigger_kind),
      error,
      startedAt: run.started_at as Date,
      finishedAt: now,
    };
  }

  /** Running tasks whose worker has not reported for `lostAfterMs`: their attempt ends as `lost` (and is retried). */
  async reapLost(lostAfterMs: number): Promise<{ runId: string; task: string; worker: string; finishedRun?: FinishedRun }[]> {
    const stale = await this.driver.read((s) =>
      s.query(`SELECT run_id, task, attempts, worker FROM run_tasks WHERE status = 'running' AND heartbeat_at < current_timestamp - CAST($1 AS INTERVAL)`, [
        `${lostAfterMs} milliseconds`,
      ]),
    );
    const reaped = [];
    for (const t of stale) {
      const claim = { runId: String(t.run_id), task: String(t.task), attempt: Number(t.attempts) };
      const worker = String(t.worker);
      const error = `worker ${worker} stopped reporting for over ${Math.round(lostAfterMs / 1000)} s`;
      const result = await this.finishAttempt(claim, { status: 'lost', error }, { onlyIfSilentFor: lostAfterMs });
      reaped.push({ ...claim, worker, ...(result.finishedRun ? { finishedRun: result.finishedRun } : {}) });
    }
    return reaped;
  }

  /** Cancels a run: its pending tasks now, its running tasks when their workers next report (they stop them). */
  async cancel(runId: string): Promise<FinishedRun | undefined> {
    return this.driver.transaction(async (s) => {
      const rows = await s.query(`SELECT status FROM runs WHERE run_id = $1`, [runId]);
      if (!rows[0]) throw new TributaryError('NOT_FOUND', `no run ${runId}`, { hint: 'see `tributary runs ls`' });
      if (!['queued', 'running'].includes(String(rows[0].status))) {
        throw new TributaryError('CONFLICT', `run ${runId} is already ${String(rows[0].status)}`);
      }
      await this.driver.lock(s, `run:${runId}`);
      const cancelled = await s.query(`UPDATE runs SET status = 'cancelled' WHERE run_id = $1 AND status IN ('queued', 'running') RETURNING run_id`, [runId]);
      if (!cancelled[0]) throw new TributaryError('CONFLICT', `run ${runId} has just finished`);
      await s.query(`UPDATE run_tasks SET status = 'cancelled', error = 'cancelled' WHERE run_id = $1 AND status = 'pending'`, [runId]);
      return this.closeRunIfDone(s, runId, new Date());
    });
  }

  async tasks(runId: string): Promise<TaskInfo[]> {
    return this.driver.read(async (s) => {
      const deps = await s.query(`SELECT task, upstream FROM run_task_deps WHERE run_id = $1`, [runId]);
      const rows = await s.query(`SELECT * FROM run_tasks WHERE run_id = $1 ORDER BY seq`, [runId]);
      return rows.map((t) => ({
        task: String(t.task),
        status: String(t.status) as TaskStatus,
        attempts: Number(t.attempts),
        maxAttempts: Number(t.max_attempts),
        notBefore: t.not_before as Date,
        startedAt: (t.started_at as Date | null) ?? undefined,
        finishedAt: (t.finished_at as Date | null) ?? undefined,
        worker: (t.worker as string | null) ?? undefined,
        error: (t.error as string | null) ?? undefined,
        upstream: deps.filter((d) => d.task === t.task).map((d) => String(d.upstream)),
      }));
    });
  }

  async attempts(runId: string): Promise<AttemptInfo[]> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM task_attempts WHERE run_id = $1 ORDER BY started_at, task, attempt`, [runId]));
    return rows.map((a) => ({
      task: String(a.task),
      attempt: Number(a.attempt),
      worker: String(a.worker),
      status: String(a.status),
      startedAt: a.started_at as Date,
      finishedAt: (a.finished_at as Date | null) ?? undefined,
      error: (a.error as string | null) ?? undefined,
      summary: a.summary_json ? (JSON.parse(String(a.summary_json)) as Record<string, unknown>) : undefined,
      logs: (a.logs as string | null) ?? '',
    }));
  }

  /** Records the logs of a running attempt so far (`runs show` of a run in progress shows them). */
  async saveLogs(claim: { runId: string; task: string; attempt: number }, logs: string): Promise<void> {
    const kept = logs.length > MAX_LOG_CHARS ? `…\n${logs.slice(-MAX_LOG_CHARS)}` : logs;
    await this.driver.transaction((s) =>
      s.query(`UPDATE task_attempts SET logs = $4 WHERE run_id = $1 AND task = $2 AND attempt = $3 AND status = 'running'`, [
        claim.runId,
        claim.task,
        claim.attempt,
        kept,
      ]),
    );
  }

  /** Each task key's latest run: its status there (what the asset graph page colours it by). */
  async latestTaskStates(): Promise<Map<string, { status: string; runId: string; finishedAt: Date | undefined }>> {
    const rows = await this.driver.read((s) =>
      s.query(
        `SELECT t.task, t.status, t.run_id, t.finished_at FROM run_tasks t JOIN job_runs j ON j.run_id = t.run_id
          WHERE j.created_at = (SELECT max(j2.created_at) FROM run_tasks t2 JOIN job_runs j2 ON j2.run_id = t2.run_id WHERE t2.task = t.task)`,
      ),
    );
    return new Map(
      rows.map((r) => [String(r.task), { status: String(r.status), runId: String(r.run_id), finishedAt: (r.finished_at as Date | null) ?? undefined }]),
    );
  }

  /** Raw rows for metrics: finished runs and attempts (with durations), and each job's latest run outside backfills. */
  async statistics(): Promise<{ runs: Row[]; attempts: Row[]; lastRuns: Row[] }> {
    return this.driver.read(async (s) => ({
      runs: await s.query(
        `SELECT j.job, r.status, r.started_at, r.finished_at FROM runs r JOIN job_runs j ON j.run_id = r.run_id WHERE r.finished_at IS NOT NULL`,
      ),
      attempts: await s.query(`SELECT task, status, started_at, finished_at, summary_json FROM task_attempts WHERE finished_at IS NOT NULL`),
      lastRuns: await s.query(
        `SELECT j.job, r.status, r.finished_at FROM runs r JOIN job_runs j ON j.run_id = r.run_id
          WHERE r.finished_at IS NOT NULL AND j.trigger_kind <> 'backfill'
            AND r.finished_at = (SELECT max(r2.finished_at) FROM runs r2 JOIN job_runs j2 ON j2.run_id = r2.run_id
                                  WHERE j2.job = j.job AND r2.finished_at IS NOT NULL AND j2.trigger_kind <> 'backfill')`,
      ),
    }));
  }
}

async function setCursor(s: CatalogSession, name: string, expected: string | undefined, next: string): Promise<boolean> {
  const now = new Date().toISOString();
  if (expected === undefined) {
    const inserted = await s.query(
      `INSERT INTO scheduler_state (name, cursor_json, evaluated_at) VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ)) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [name, next, now],
    );
    return inserted.length > 0;
  }
  const rows = await s.query(
    `UPDATE scheduler_state SET cursor_json = $3, evaluated_at = CAST($4 AS TIMESTAMPTZ) WHERE name = $1 AND cursor_json = $2 RETURNING name`,
    [name, expected, next, now],
  );
  return rows.length > 0;
}
