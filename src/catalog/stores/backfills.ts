import type { CatalogDriver, CatalogSession } from '../driver.js';

/** A backfill as the catalog holds it. */
export interface BackfillRecord {
  backfillId: string;
  job: string;
  partitions: string[];
  parallelism: number;
  status: 'running' | 'success' | 'failed' | 'cancelled';
  createdAt: Date;
  finishedAt: Date | undefined;
  resumedAt: Date | undefined;
}

/** Backfills, and the runs of their partitions (orchestration/backfill.ts decides; this store only reads and writes). */
export class Backfills {
  constructor(private readonly driver: CatalogDriver) {}

  async create(id: string, job: string, partitions: readonly string[], parallelism: number): Promise<void> {
    await this.driver.transaction((s) =>
      s.query(
        `INSERT INTO backfills (backfill_id, job, partitions_json, parallelism, status, created_at) VALUES ($1, $2, $3, $4, 'running', CAST($5 AS TIMESTAMPTZ))`,
        [id, job, JSON.stringify(partitions), parallelism, new Date().toISOString()],
      ),
    );
  }

  async get(id: string): Promise<BackfillRecord | undefined> {
    const [row] = await this.driver.read((s) => s.query(`SELECT * FROM backfills WHERE backfill_id = $1`, [id]));
    return row ? toBackfill(row) : undefined;
  }

  /** Ids, newest first (`limit`), or the running ones oldest first. */
  async ids(options: { running?: boolean; limit?: number } = {}): Promise<string[]> {
    const rows = await this.driver.read((s) =>
      options.running
        ? s.query(`SELECT backfill_id FROM backfills WHERE status = 'running' ORDER BY created_at`)
        : s.query(`SELECT backfill_id FROM backfills ORDER BY created_at DESC LIMIT ${Math.max(1, Math.floor(options.limit ?? 50))}`),
    );
    return rows.map((r) => String(r.backfill_id));
  }

  async setStatus(id: string, status: BackfillRecord['status']): Promise<void> {
    await this.driver.transaction((s) => this.setStatusIn(s, id, status));
  }

  /** Inside a transaction: running again (resumed now), or finished now. */
  async setStatusIn(s: CatalogSession, id: string, status: BackfillRecord['status']): Promise<void> {
    const now = new Date().toISOString();
    if (status === 'running') {
      await s.query(`UPDATE backfills SET status = 'running', finished_at = NULL, resumed_at = CAST($2 AS TIMESTAMPTZ) WHERE backfill_id = $1`, [id, now]);
    } else {
      await s.query(`UPDATE backfills SET status = $2, finished_at = CAST($3 AS TIMESTAMPTZ) WHERE backfill_id = $1`, [id, status, now]);
    }
  }

  /** Inside a transaction holding the backfill's lock: the backfill if still running, and its runs. */
  async runningIn(
    s: CatalogSession,
    id: string,
  ): Promise<{ backfill: BackfillRecord; runs: { status: string; partition: string; createdAt: Date }[] } | undefined> {
    await this.driver.lock(s, `backfill:${id}`);
    const [row] = await s.query(`SELECT * FROM backfills WHERE backfill_id = $1 AND status = 'running'`, [id]);
    if (!row) return undefined;
    const runs = await s.query(`SELECT r.status, j.partition_key, j.created_at FROM runs r JOIN job_runs j ON j.run_id = r.run_id WHERE j.backfill_id = $1`, [
      id,
    ]);
    return {
      backfill: toBackfill(row),
      runs: runs.map((r) => ({ status: String(r.status), partition: String(r.partition_key), createdAt: r.created_at as Date })),
    };
  }

  transaction<T>(fn: (s: CatalogSession) => Promise<T>): Promise<T> {
    return this.driver.transaction(fn);
  }

  /** The latest run of each partition of a job. */
  async latestRunPerPartition(job: string): Promise<Map<string, { status: string; runId: string }>> {
    const rows = await this.driver.read((s) =>
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
}

function toBackfill(r: Record<string, unknown>): BackfillRecord {
  return {
    backfillId: String(r.backfill_id),
    job: String(r.job),
    partitions: JSON.parse(String(r.partitions_json)) as string[],
    parallelism: Number(r.parallelism),
    status: String(r.status) as BackfillRecord['status'],
    createdAt: r.created_at as Date,
    finishedAt: (r.finished_at as Date | null) ?? undefined,
    resumedAt: (r.resumed_at as Date | null) ?? undefined,
  };
}
