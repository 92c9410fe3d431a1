import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Lake } from '../lake/lake.js';
import type { Log } from '../log/log.js';
import { openLog } from '../log/open.js';
import { compileStream } from '../streams/definition.js';
import { streamStatus } from '../streams/status.js';
import type { Orchestration } from '../orchestration/orchestration.js';
import { RunMetrics } from './run-metrics.js';

/**
 * Prometheus metrics of a running Tributary process (prom-client). HTTP metrics are counted as requests are
 * served; lake and stream gauges are read from the catalog (and the log, for lag) when Prometheus scrapes, so
 * they describe the project whichever process did the work.
 */
export class Metrics {
  readonly registry = new Registry();
  private log: Log | undefined;
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route'>;
  private readonly refreshGauges: () => Promise<void>;
  private readonly refreshErrors: Counter<'source'>;

  private readonly runMetrics: RunMetrics;

  constructor(
    private readonly lake: Lake,
    orchestration?: Orchestration,
  ) {
    collectDefaultMetrics({ register: this.registry }); // standard names (process_*, nodejs_*), as dashboards expect
    this.runMetrics = new RunMetrics(this.registry, lake, orchestration);
    this.requests = new Counter({
      name: 'tributary_http_requests_total',
      help: 'HTTP requests served, by route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.durations = new Histogram({
      name: 'tributary_http_request_duration_seconds',
      help: 'HTTP request latency, by route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    const tables = {
      rows: gauge(this.registry, 'tributary_table_rows', 'Rows in the current snapshot of each lake table', ['table']),
      files: gauge(this.registry, 'tributary_table_files', 'Data files in the current snapshot of each lake table', ['table']),
      lastCommit: gauge(this.registry, 'tributary_table_last_commit_timestamp_seconds', 'When each table last got a snapshot (Unix time)', ['table']),
      freshness: gauge(this.registry, 'tributary_table_freshness_seconds', 'Seconds since each table last got a snapshot', ['table']),
    };
    const streams = {
      lag: gauge(this.registry, 'tributary_stream_lag_records', 'Records in the log not yet committed by the stream, per partition', ['stream', 'partition']),
      watermarkDelay: gauge(this.registry, 'tributary_stream_watermark_delay_seconds', "How far the stream's watermark trails the wall clock", ['stream']),
      lastCommit: gauge(this.registry, 'tributary_stream_last_commit_timestamp_seconds', 'When the stream last committed a batch (Unix time)', ['stream']),
      deadLetters: gauge(this.registry, 'tributary_stream_dead_letters', "Records in the stream's dead-letter table", ['stream']),
      late: gauge(this.registry, 'tributary_stream_late_events', "Events in the stream's late-events table", ['stream']),
    };
    this.refreshErrors = new Counter({
      name: 'tributary_metrics_refresh_errors_total',
      help: 'Scrapes whose catalog or log figures could not be read (those gauges are then absent)',
      labelNames: ['source'],
      registers: [this.registry],
    });
    // Refreshed before each scrape is rendered (prom-client reads gauges concurrently, so not from a collect hook);
    // concurrent scrapes share one refresh.
    let refreshing: Promise<void> | undefined;
    this.refreshGauges = () => (refreshing ??= this.refresh(tables, streams).finally(() => (refreshing = undefined)));
  }

  /** Counts every request of `app` by route pattern (not URL: bounded label values) and status. */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      this.durations.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  }

  async text(): Promise<string> {
    await this.refreshGauges();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async close(): Promise<void> {
    await this.log?.close().catch(() => undefined);
  }

  /**
   * Each source fails on its own: a Kafka broker down must not turn the whole scrape into an error (Prometheus
   * would then report the server down). A failed source's gauges are left empty and counted in refresh errors.
   */
  private async refresh(
    tables: Record<'rows' | 'files' | 'lastCommit' | 'freshness', Gauge<string>>,
    streams: Record<'lag' | 'watermarkDelay' | 'lastCommit' | 'deadLetters' | 'late', Gauge<string>>,
  ): Promise<void> {
    const now = Date.now();
    for (const g of [...Object.values(tables), ...Object.values(streams)]) g.reset();
    let rows = new Map<string, number>();
    try {
      const list = await this.lake.tables();
      rows = new Map(list.map((t) => [t.name, t.rowCount]));
      for (const t of list) {
        tables.rows.set({ table: t.name }, t.rowCount);
        tables.files.set({ table: t.name }, t.fileCount);
        if (t.updatedAt) {
          tables.lastCommit.set({ table: t.name }, t.updatedAt.getTime() / 1000);
          tables.freshness.set({ table: t.name }, (now - t.updatedAt.getTime()) / 1000);
        }
      }
    } catch {
      this.refreshErrors.inc({ source: 'catalog' });
    }
    try {
      await withTimeout(this.runMetrics.refresh(), SOURCE_TIMEOUT_MS);
    } catch {
      this.refreshErrors.inc({ source: 'runs' });
    }
    const config = this.lake.config;
    if (Object.keys(config.streams).length === 0) return;
    try {
      this.log ??= await withTimeout(openLog(config.log), SOURCE_TIMEOUT_MS);
      for (const s of await withTimeout(streamStatus(config, { log: this.log, lake: this.lake }), SOURCE_TIMEOUT_MS)) {
        const stream = compileStream(s.stream, config.streams[s.stream]!, { projectDir: config.projectDir });
        for (const p of s.partitions) streams.lag.set({ stream: s.stream, partition: String(p.partition) }, p.lag);
        if (s.watermark) streams.watermarkDelay.set({ stream: s.stream }, (now - s.watermark.getTime()) / 1000);
        if (s.lastCommit) streams.lastCommit.set({ stream: s.stream }, s.lastCommit.getTime() / 1000);
        streams.deadLetters.set({ stream: s.stream }, rows.get(stream.dlqTable) ?? 0);
        streams.late.set({ stream: s.stream }, rows.get(stream.lateTable) ?? 0);
      }
    } catch {
      this.refreshErrors.inc({ source: 'streams' });
      for (const g of Object.values(streams)) g.reset();
      // A broken connection is not kept: the next scrape connects again.
      await this.log?.close().catch(() => undefined);
      this.log = undefined;
    }
  }
}

/** Longest a scrape waits for one source (Prometheus's own scrape timeout defaults to 10 s). */
const SOURCE_TIMEOUT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[]): Gauge<string> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}
