import { ingestionStatistics } from '../catalog/stores/statistics.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Lake } from '../lake/lake.js';
import type { Orchestration } from '../orchestration/orchestration.js';

const DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/**
 * Metrics of runs, tasks, ingestion and checks, recomputed from the catalog at each scrape: whichever process
 * (worker, `tributary dev`, a CLI command) did the work, and across restarts, the counters only grow.
 */
export class RunMetrics {
  private readonly runs: Counter<'job_name' | 'status'>;
  private readonly runDurations: Histogram<'job_name'>;
  private readonly attempts: Counter<'asset' | 'status'>;
  private readonly taskDurations: Histogram<'asset'>;
  private readonly rowsIn: Counter<'asset'>;
  private readonly rowsOut: Counter<'asset'>;
  private readonly lastFailed: Gauge<'job_name'>;
  private readonly lastFinished: Gauge<'job_name'>;
  private readonly filesIngested: Counter<'source'>;
  private readonly filesQuarantined: Counter<'source'>;
  private readonly rejectedRows: Counter<'source'>;
  private readonly checkFailures: Counter<'table' | 'check'>;

  // Jobs are labelled `job_name`: `job` is the label Prometheus gives each scrape target.
  constructor(
    registry: Registry,
    private readonly lake: Lake,
    private readonly orch: Orchestration | undefined,
  ) {
    const registers = [registry];
    this.runs = new Counter({
      name: 'tributary_runs_total',
      help: 'Finished job runs, by job and status (success, failed, cancelled)',
      labelNames: ['job_name', 'status'],
      registers,
    });
    this.runDurations = new Histogram({
      name: 'tributary_run_duration_seconds',
      help: 'Duration of finished job runs, queued to finished',
      labelNames: ['job_name'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.attempts = new Counter({
      name: 'tributary_task_attempts_total',
      help: 'Finished task attempts, by asset and status (success, failed, timed_out, lost, interrupted, cancelled)',
      labelNames: ['asset', 'status'],
      registers,
    });
    this.taskDurations = new Histogram({
      name: 'tributary_task_duration_seconds',
      help: 'Duration of finished task attempts',
      labelNames: ['asset'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.rowsIn = new Counter({ name: 'tributary_task_rows_in_total', help: 'Rows read by successful task attempts', labelNames: ['asset'], registers });
    this.rowsOut = new Counter({ name: 'tributary_task_rows_out_total', help: 'Rows written by successful task attempts', labelNames: ['asset'], registers });
    this.lastFailed = new Gauge({
      name: 'tributary_job_last_run_failed',
      help: '1 when the latest finished run of the job (backfills aside) failed, else 0',
      labelNames: ['job_name'],
      registers,
    });
    this.lastFinished = new Gauge({
      name: 'tributary_job_last_run_timestamp_seconds',
      help: 'When the latest run of the job finished (Unix time)',
      labelNames: ['job_name'],
      registers,
    });
    this.filesIngested = new Counter({ name: 'tributary_files_ingested_total', help: 'Files ingested, by source', labelNames: ['source'], registers });
    this.filesQuarantined = new Counter({ name: 'tributary_files_quarantined_total', help: 'Files quarantined, by source', labelNames: ['source'], registers });
    this.rejectedRows = new Counter({
      name: 'tributary_rejected_rows_total',
      help: 'Rows rejected at ingestion, by source',
      labelNames: ['source'],
      registers,
    });
    this.checkFailures = new Counter({
      name: 'tributary_check_failures_total',
      help: 'Check evaluations that failed or could not run, by table and check',
      labelNames: ['table', 'check'],
      registers,
    });
  }

  /**
   * Reads everything first, then resets and sets the metrics in one synchronous step: a scrape never sees them
   * half-filled (Prometheus would take a counter at 0 for a reset), and an overlapping refresh only sets them again.
   */
  async refresh(): Promise<void> {
    const { ingested, quarantined, failingChecks } = await ingestionStatistics(this.lake.catalog.driver);
    const stats = this.orch ? await this.orch.queue.statistics() : undefined;

    for (const m of [
      this.runs,
      this.runDurations,
      this.attempts,
      this.taskDurations,
      this.rowsIn,
      this.rowsOut,
      this.lastFailed,
      this.lastFinished,
      this.filesIngested,
      this.filesQuarantined,
      this.rejectedRows,
      this.checkFailures,
    ])
      m.reset();
    for (const r of ingested) {
      this.filesIngested.inc({ source: r.source }, r.files);
      this.rejectedRows.inc({ source: r.source }, r.rejected);
    }
    for (const r of quarantined) this.filesQuarantined.inc({ source: r.source }, r.files);
    for (const r of failingChecks) this.checkFailures.inc({ table: r.table, check: r.check }, r.count);
    if (!this.orch || !stats) return;
    // Every declared job has its series from the start, so that `increase()` and alerts see the first failure.
    for (const job of this.orch.jobs.keys()) {
      this.lastFailed.set({ job_name: job }, 0);
      for (const status of ['success', 'failed']) this.runs.inc({ job_name: job, status }, 0);
    }
    for (const r of stats.runs) {
      this.runs.inc({ job_name: String(r.job), status: String(r.status) });
      this.runDurations.observe({ job_name: String(r.job) }, seconds(r.started_at, r.finished_at));
    }
    for (const a of stats.attempts) {
      const asset = String(a.task);
      this.attempts.inc({ asset, status: String(a.status) });
      this.taskDurations.observe({ asset }, seconds(a.started_at, a.finished_at));
      if (a.status === 'success' && a.summary_json) {
        const summary = JSON.parse(String(a.summary_json)) as { rowsIn?: number; rowsOut?: number };
        this.rowsIn.inc({ asset }, summary.rowsIn ?? 0);
        this.rowsOut.inc({ asset }, summary.rowsOut ?? 0);
      }
    }
    for (const r of stats.lastRuns) {
      this.lastFailed.set({ job_name: String(r.job) }, r.status === 'failed' ? 1 : 0);
      this.lastFinished.set({ job_name: String(r.job) }, (r.finished_at as Date).getTime() / 1000);
    }
  }
}

function seconds(start: unknown, end: unknown): number {
  return Math.max(0, ((end as Date).getTime() - (start as Date).getTime()) / 1000);
}
