import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { produceFile, produceGenerated } from '../src/produce/produce.js';
import { buildServer } from '../src/serve/server.js';
import { runStream } from '../src/streams/worker.js';
import { cli, freePort, ROOT, run, tempDir } from './support/helpers.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

const STREAM = 'ventes-live';
const TOPIC = 'ventes-temps-reel';
let lake: Lake;
let app: Awaited<ReturnType<typeof buildServer>>['app'];
let deadLetters = 0;
let project = '';

/** The value of one sample of the exposition text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

beforeAll(async () => {
  const dir = path.join(tempDir('trib-metrics-'), 'ventes-live');
  project = dir;
  copyProjectFiles(path.join(ROOT, 'examples/ventes-live'), dir);
  const config = await loadConfig(dir);
  const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
  await log.createTopic(TOPIC, 3);
  await produceFile(log, TOPIC, path.join(dir, 'events.ndjson'));
  deadLetters = (await runStream(config, STREAM, { availableNow: true })).deadLetters;
  // 60 more records the stream has not read: its lag.
  await produceGenerated(log, TOPIC, { count: 60, rate: 10, pace: false, seed: 3 });
  await log.close();
  lake = await Lake.open(config);
  app = (await buildServer(lake)).app;
});

afterAll(async () => {
  await app?.close();
  await lake?.close();
});

describe('/metrics', () => {
  it('exposes HTTP, table, stream and process metrics in Prometheus text format', async () => {
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/tables/gold/nope' })).statusCode).toBe(404);
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(sample(text, 'tributary_http_requests_total', { route: '/health', status: '200' })).toBe(1);
    expect(sample(text, 'tributary_http_requests_total', { route: '/api/v1/tables/:layer/:table', status: '404' })).toBe(1);
    expect(text).toContain('tributary_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/health"}');
    expect(sample(text, 'tributary_stream_dead_letters', { stream: STREAM })).toBe(deadLetters);
    const lag = [0, 1, 2].map((p) => sample(text, 'tributary_stream_lag_records', { stream: STREAM, partition: String(p) }) ?? 0);
    expect(lag.reduce((a, b) => a + b)).toBe(60);
    expect(sample(text, 'tributary_table_rows', { table: 'bronze.ventes_live_raw' })).toBe(2998);
    expect(sample(text, 'tributary_table_freshness_seconds', { table: 'gold.ventes_live_par_pays' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'tributary_stream_watermark_delay_seconds', { stream: STREAM })).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('needs a token when the API does, and survives a log it cannot reach', { timeout: 30_000 }, async () => {
    const secured = {
      ...lake.config,
      serve: { ...lake.config.serve, auth: { tokens: ['s3cret'] } },
      log: { kind: 'kafka' as const, brokers: ['127.0.0.1:1'] },
    };
    const other = await Lake.open(secured);
    const { app: guarded } = await buildServer(other);
    try {
      expect((await guarded.inject({ url: '/metrics' })).statusCode).toBe(401);
      const res = await guarded.inject({ url: '/metrics', headers: { authorization: 'Bearer s3cret' } });
      expect(res.statusCode).toBe(200);
      // Kafka is unreachable: the stream figures are missing and counted, the table figures are there.
      expect(sample(res.body, 'tributary_metrics_refresh_errors_total', { source: 'streams' })).toBe(1);
      expect(sample(res.body, 'tributary_stream_lag_records')).toBeUndefined();
      expect(sample(res.body, 'tributary_table_rows', { table: 'bronze.ventes_live_raw' })).toBe(2998);
    } finally {
      await guarded.close();
      await other.close();
    }
  });

  it('is scraped by a real Prometheus server', { timeout: 60_000 }, async () => {
    const address = await listening();
    const port = await freePort();
    const dir = tempDir('trib-prom-');
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: tributary',
        `    static_configs: [{ targets: ['${new URL(address).host}'] }]`,
      ].join('\n'),
    );
    const prometheus: ChildProcess = spawn(
      'prometheus',
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    try {
      let value: string | undefined;
      for (let i = 0; i < 100 && value === undefined; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(`tributary_stream_dead_letters{stream="${STREAM}"}`)}`).catch(
          () => undefined,
        );
        const body = res?.ok ? ((await res.json()) as { data: { result: { value: [number, string] }[] } }) : undefined;
        value = body?.data.result[0]?.value[1];
      }
      expect(Number(value)).toBe(deadLetters);
      const up = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=up`)).json()) as { data: { result: { value: [number, string] }[] } };
      expect(up.data.result[0]!.value[1]).toBe('1');
    } finally {
      prometheus.kill('SIGTERM');
    }
  });
});

describe('tributary monitoring export', () => {
  it('writes a scrape config and alert rules promtool accepts, and a dead-letter alert fires in a real Prometheus', { timeout: 90_000 }, async () => {
    const out = tempDir('trib-monitoring-');
    const address = await listening();
    const exported = await cli(['monitoring', 'export', out, '--target', new URL(address).host, '--scrape-interval', '1s', '--project', project]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('alert rules: TributaryDown, TributaryApiErrors, TributaryStreamLagHigh, TributaryDeadLettersGrowing');
    const rules = await run('promtool', ['check', 'rules', path.join(out, 'tributary-alerts.yml')]);
    expect(rules.code, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toContain('SUCCESS: 4 rules found');
    const checked = await run('promtool', ['check', 'config', path.join(out, 'prometheus.yml')]);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    const dashboard = JSON.parse(readFileSync(path.join(out, 'grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    expect(dashboard.panels.map((p) => p.targets[0]!.expr)).toContain('tributary_stream_dead_letters');

    const port = await freePort();
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${path.join(out, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(out, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    try {
      const query = async (q: string) =>
        ((await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: unknown[] } }).data.result;
      // Wait for a first scrape, then add dead letters: three poison pills through the stream.
      for (let i = 0; i < 100 && (await query('tributary_stream_dead_letters').catch(() => [])).length === 0; i++) await new Promise((r) => setTimeout(r, 300));
      const config = await loadConfig(project);
      const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
      await (await log.producer()).send(['{', '[]', 'not json'].map((value) => ({ topic: TOPIC, value })));
      await log.close();
      await runStream(config, STREAM, { availableNow: true });
      let firing: { labels: { alertname: string; stream?: string }; state: string }[] = [];
      for (let i = 0; i < 100 && firing.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const alerts = (await (await fetch(`http://127.0.0.1:${port}/api/v1/alerts`)).json()) as { data: { alerts: typeof firing } };
        firing = alerts.data.alerts.filter((a) => a.state === 'firing' && a.labels.alertname === 'TributaryDeadLettersGrowing');
      }
      expect(firing.map((a) => a.labels.stream)).toEqual([STREAM]);
    } finally {
      prometheus.kill('SIGTERM');
    }
  });
});

async function listening(): Promise<string> {
  const address = app.server.address();
  if (address && typeof address === 'object') return `http://127.0.0.1:${address.port}`;
  return app.listen({ port: 0, host: '127.0.0.1' });
}
