import type { CatalogDriver } from './driver.js';

/** What one model (or one table's checks) did in one run. */
export interface ModelRunRecord {
  runId: string;
  model: string;
  /** success | fresh | failed | blocked | failed_checks */
  status: string;
  materialization: string | undefined;
  /** full | incremental */
  mode: string | undefined;
  startedAt: Date;
  finishedAt: Date | undefined;
  rowsIn: number | undefined;
  rowsOut: number | undefined;
  snapshotId: number | undefined;
  /** Snapshot id of each input table the model read. */
  inputSnapshots: Record<string, number>;
  sqlHash: string | undefined;
  error: string | undefined;
}

export interface CheckResultRecord {
  runId: string;
  table: string;
  check: string;
  severity: 'warn' | 'error';
  /** pass | fail | error (the check itself could not run) */
  status: 'pass' | 'fail' | 'error';
  failingRows: number;
  sample: Record<string, unknown>[];
  error: string | undefined;
  checkedAt: Date;
  /** The check's definition (hash of its spec) and the snapshots of the tables it read, when known. */
  specHash?: string;
  snapshots?: Record<string, number>;
}

/** Model runs and check results, stored in the catalog next to the runs they belong to. */
export class RunLog {
  constructor(private readonly driver: CatalogDriver) {}

  /** A retried task records its model again under the same run: the last attempt's record wins. */
  async recordModel(r: ModelRunRecord): Promise<void> {
    await this.driver.transaction(async (s) => {
      await s.query(`DELETE FROM model_runs WHERE run_id = $1 AND model = $2`, [r.runId, r.model]);
      await s.query(
        `INSERT INTO model_runs (run_id, model, status, materialization, mode, started_at, finished_at, rows_in, rows_out, snapshot_id, input_snapshots, sql_hash, error)
         VALUES ($1, $2, $3, $4, $5, CAST($6 AS TIMESTAMPTZ), CAST($7 AS TIMESTAMPTZ), $8, $9, $10, $11, $12, $13)`,
        [
          r.runId,
          r.model,
          r.status,
          r.materialization ?? null,
          r.mode ?? null,
          r.startedAt.toISOString(),
          r.finishedAt?.toISOString() ?? null,
          r.rowsIn ?? null,
          r.rowsOut ?? null,
          r.snapshotId ?? null,
          JSON.stringify(r.inputSnapshots),
          r.sqlHash ?? null,
          r.error ?? null,
        ],
      );
    });
  }

  async recordChecks(results: readonly CheckResultRecord[]): Promise<void> {
    if (results.length === 0) return;
    await this.driver.transaction(async (s) => {
      for (const r of results) {
        await s.query(`DELETE FROM check_results WHERE run_id = $1 AND table_name = $2 AND check_name = $3`, [r.runId, r.table, r.check]);
        await s.query(
          `INSERT INTO check_results (run_id, table_name, check_name, severity, status, failing_rows, sample_json, error, checked_at, spec_hash, snapshots)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CAST($9 AS TIMESTAMPTZ), $10, $11)`,
          [
            r.runId,
            r.table,
            r.check,
            r.severity,
            r.status,
            r.failingRows,
            JSON.stringify(r.sample),
            r.error ?? null,
            r.checkedAt.toISOString(),
            r.specHash ?? null,
            r.snapshots ? JSON.stringify(r.snapshots) : null,
          ],
        );
      }
    });
  }

  /** The last run in which the model was built successfully: what freshness and incremental reads start from. */
  async lastSuccess(model: string): Promise<ModelRunRecord | undefined> {
    const rows = await this.driver.read((s) =>
      s.query(`SELECT * FROM model_runs WHERE model = $1 AND status = 'success' ORDER BY started_at DESC LIMIT 1`, [model]),
    );
    return rows[0] ? toModelRun(rows[0]) : undefined;
  }

  /** The model's latest record, whatever its outcome: what automation compares the current inputs with. */
  async lastRecord(model: string): Promise<ModelRunRecord | undefined> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM model_runs WHERE model = $1 ORDER BY started_at DESC LIMIT 1`, [model]));
    return rows[0] ? toModelRun(rows[0]) : undefined;
  }

  async modelRuns(runId: string): Promise<ModelRunRecord[]> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM model_runs WHERE run_id = $1 ORDER BY started_at, model`, [runId]));
    return rows.map(toModelRun);
  }

  async checkResults(runId: string): Promise<CheckResultRecord[]> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM check_results WHERE run_id = $1 ORDER BY checked_at, table_name, check_name`, [runId]));
    return rows.map(toCheckResult);
  }

  /** The latest result of each check of a table, whatever run recorded it. */
  async latestChecks(table: string): Promise<Map<string, CheckResultRecord>> {
    const rows = await this.driver.read((s) =>
      s.query(
        `SELECT c.* FROM check_results c
           JOIN (SELECT check_name, max(checked_at) AS at FROM check_results WHERE table_name = $1 GROUP BY check_name) l
             ON c.check_name = l.check_name AND c.checked_at = l.at
          WHERE c.table_name = $1`,
        [table],
      ),
    );
    return new Map(rows.map(toCheckResult).map((r) => [r.check, r]));
  }
}

function toCheckResult(r: Record<string, unknown>): CheckResultRecord {
  return {
    runId: String(r.run_id),
    table: String(r.table_name),
    check: String(r.check_name),
    severity: String(r.severity) as CheckResultRecord['severity'],
    status: String(r.status) as CheckResultRecord['status'],
    failingRows: Number(r.failing_rows),
    sample: r.sample_json ? (JSON.parse(String(r.sample_json)) as Record<string, unknown>[]) : [],
    error: (r.error as string | null) ?? undefined,
    checkedAt: r.checked_at as Date,
    ...(r.spec_hash ? { specHash: String(r.spec_hash) } : {}),
    ...(r.snapshots ? { snapshots: JSON.parse(String(r.snapshots)) as Record<string, number> } : {}),
  };
}

function toModelRun(r: Record<string, unknown>): ModelRunRecord {
  const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
  return {
    runId: String(r.run_id),
    model: String(r.model),
    status: String(r.status),
    materialization: (r.materialization as string | null) ?? undefined,
    mode: (r.mode as string | null) ?? undefined,
    startedAt: r.started_at as Date,
    finishedAt: (r.finished_at as Date | null) ?? undefined,
    rowsIn: num(r.rows_in),
    rowsOut: num(r.rows_out),
    snapshotId: num(r.snapshot_id),
    inputSnapshots: r.input_snapshots ? (JSON.parse(String(r.input_snapshots)) as Record<string, number>) : {},
    sqlHash: (r.sql_hash as string | null) ?? undefined,
    error: (r.error as string | null) ?? undefined,
  };
}
