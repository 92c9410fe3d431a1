import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { exportMonitoring } from '../src/monitoring/export.js';
import { runBuild } from '../src/orchestration/build.js';
import { buildServer } from '../src/serve/server.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
// @ts-expect-error: the example's simulator is plain JavaScript, run by `node` as users run it
import { createSimulator } from '../examples/crypto/simulator.mjs';
import { PG_URL, ROOT, tempDir } from './support/helpers.js';

// examples/crypto (seed 004) against its CoinCap simulator and the machine's PostgreSQL: polls, a gap backfilled from
// the history endpoint, the store's crypto_prices compared row for row with what the simulator served, the probes,
// the bitcoin alert and the dashboard's endpoints.
interface Served {
  path: string;
  id?: string;
  timestamp: number;
  data: Record<string, string | number | null>[];
}
const simulator = createSimulator() as { server: import('node:http').Server; served: Served[] };
const schema = `crypto_t${process.pid}`;
const client = new pg.Client({ connectionString: PG_URL });
let lake: Lake;
let api: string;

const control = (body: unknown) => fetch(`${api}/_control`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());

beforeAll(async () => {
  await new Promise<void>((resolve) => simulator.server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(simulator.server.address() as AddressInfo).port}`;
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const dir = path.join(tempDir('trib-crypto-'), 'crypto');
  copyProjectFiles(path.join(ROOT, 'examples/crypto'), dir);
  process.env.COINCAP_URL = `${api}/v2`;
  process.env.CRYPTO_PG = `${PG_URL}?schema=${schema}`;
  try {
    lake = await Lake.open(await loadConfig(dir, { required: true }));
  } finally {
    delete process.env.COINCAP_URL;
    delete process.env.CRYPTO_PG;
  }
}, 60_000);
afterAll(async () => {
  await lake?.close();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  simulator.server.closeAllConnections();
  await new Promise((resolve) => simulator.server.close(resolve));
});

const poll = () => runBuild(lake, { select: lake.config.jobs.poll!.select });
const maintenance = () => runBuild(lake, { select: lake.config.jobs.maintenance!.select });

describe('examples/crypto (seed 004)', () => {
  it('polls, backfills a gap from the history endpoint, and PostgreSQL holds exactly what the API served', async () => {
    const first = await poll();
    expect(first.assets.filter((a) => a.status !== 'success' && a.status !== 'fresh')).toEqual([]);
    await control({ advance: 10_000 });
    await poll();
    // Five minutes without a poll, then one: four minutes are missing.
    await control({ advance: 5 * 60_000 });
    await poll();
    const backfill = await maintenance();
    expect(backfill.status).toBe('success');
    expect(backfill.assets.map((a) => a.asset)).toEqual(
      expect.arrayContaining(['probe:coincap_api', 'probe:postgres', 'source:coincap_gaps', 'sync:silver.crypto_prices']),
    );

    const polls = simulator.served.filter((s) => s.path === '/v2/assets' && s.data.length > 0);
    expect(polls).toHaveLength(3);
    const history = simulator.served.filter((s) => s.path.endsWith('/history'));
    expect(history.map((h) => h.id).sort()).toEqual(polls[0]!.data.map((a) => a.id).sort());
    // What the store should hold: every polled record, and the history minutes no poll covered.
    const expected = new Map<string, (string | number | null)[]>();
    const minute = (ms: number) => Math.floor(ms / 60_000);
    const polledMinutes = new Set<string>();
    for (const p of polls) {
      for (const a of p.data) {
        expected.set(`${a.id}@${p.timestamp}`, [
          a.id!,
          a.symbol!,
          a.name!,
          a.priceUsd!,
          a.marketCapUsd!,
          a.volumeUsd24Hr!,
          a.changePercent24Hr!,
          p.timestamp,
          'poll',
        ]);
        polledMinutes.add(`${a.id}@${minute(p.timestamp)}`);
      }
    }
    const names = new Map(polls[0]!.data.map((a) => [a.id, [a.symbol, a.name]]));
    let backfilled = 0;
    for (const h of history) {
      for (const m of h.data) {
        if (polledMinutes.has(`${h.id}@${minute(Number(m.time))}`)) continue;
        backfilled++;
        expected.set(`${h.id}@${m.time}`, [h.id!, names.get(h.id)![0]!, names.get(h.id)![1]!, m.priceUsd!, null, null, null, Number(m.time), 'backfill']);
      }
    }
    expect(backfilled).toBe(4 * 10);
    const { rows } = await client.query(
      `SELECT asset_id, symbol, name, price_usd::text, market_cap_usd::text, volume_24h_usd::text, change_percent_24h::text,
              (extract(epoch FROM ingestion_timestamp) * 1000)::bigint::int8 AS ms, origin FROM ${schema}.crypto_prices ORDER BY asset_id, ms`,
    );
    const actual = rows.map((r) => [
      r.asset_id,
      r.symbol,
      r.name,
      r.price_usd,
      r.market_cap_usd,
      r.volume_24h_usd,
      r.change_percent_24h,
      Number(r.ms),
      r.origin,
    ]);
    const want = [...expected.values()].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[7]) - Number(b[7]));
    expect(actual).toEqual(want);
    // The history's indexes, as seed 004's init.sql.
    const indexes = await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'crypto_prices' ORDER BY indexname`, [schema]);
    expect(indexes.rows.map((r) => r.indexname)).toEqual(['crypto_prices_ingestion_timestamp_idx', 'crypto_prices_pkey', 'crypto_prices_symbol_idx']);
    // Every response is kept as received.
    const raw = (await lake.query(`SELECT count(*) AS n FROM bronze.coincap_raw WHERE status = 200`)).rows[0]!.n;
    expect(Number(raw)).toBe(6); // each poll: the page of assets, then the empty page that ends it

    // Nothing is missing any more: the next maintenance asks the history endpoint nothing.
    await maintenance();
    expect(simulator.served.filter((s) => s.path.endsWith('/history'))).toHaveLength(history.length);
  }, 120_000);

  it('serves the gold tables the dashboard pages read', async () => {
    const { app } = await buildServer(lake);
    try {
      const latest = await app.inject({ url: '/api/v1/tables/gold/latest_prices?sort=rank' });
      expect(latest.statusCode).toBe(200);
      const body = latest.json() as { rows: { symbol: string; rank: number }[] };
      expect(body.rows.map((r) => r.symbol).slice(0, 2)).toEqual(['BTC', 'ETH']);
      const dominance = (await app.inject({ url: '/api/v1/tables/gold/market_dominance' })).json() as { rows: { dominance_pct: number }[] };
      expect(dominance.rows.reduce((n, r) => n + Number(r.dominance_pct), 0)).toBeCloseTo(100, 1);
      const movers = (await app.inject({ url: '/api/v1/tables/gold/top_movers' })).json() as { rows: { direction: string }[] };
      expect(movers.rows.length).toBeGreaterThan(0);
      const historyPage = await app.inject({ url: '/api/v1/tables/gold/price_history?symbol=BTC&sort=-minute&limit=1000' });
      expect(historyPage.statusCode, historyPage.body).toBe(200);
      expect((historyPage.json() as { rows: unknown[] }).rows.length).toBeGreaterThanOrEqual(6);
      for (const page of lake.config.serve.dashboard?.pages ?? []) {
        for (const chart of page.charts) {
          const answer = await app.inject({ url: `/api/v1${chart.source}` });
          expect(answer.statusCode, `${chart.source}: ${answer.body}`).toBe(200);
        }
      }
    } finally {
      await app.close();
    }
  }, 60_000);

  it("fires the bitcoin alert's check on a crash, and an alert rule watches it", async () => {
    // Halved: below −10 % in 24 h whatever the simulated market did that day (prices move by up to ±13 % a day).
    await control({ crash: 0.5, advance: 10_000 });
    const report = await poll();
    const check = report.checks.find((c) => c.check === 'bitcoin_24h_drop');
    expect(check).toMatchObject({ status: 'fail', severity: 'warn', failingRows: 1 });
    const files = exportMonitoring(lake.config, tempDir('trib-crypto-mon-'));
    const rules = readFileSync(files.files.find((f) => f.endsWith('tributary-alerts.yml'))!, 'utf8');
    expect(rules).toContain('- alert: BitcoinDrop24h');
    expect(rules).toContain('increase(tributary_check_failures_total{table=\\"gold.latest_prices\\",check=\\"bitcoin_24h_drop\\"}[15m]) > 0');
    expect(files.rules).toContain('TributaryTableStale');
  }, 60_000);

  it('stops at the probe when the API is down: nothing downstream runs', async () => {
    await control({ down: true });
    try {
      const report = await maintenance();
      const probe = report.assets.find((a) => a.asset === 'probe:coincap_api')!;
      expect(probe.status).toBe('failed');
      expect(probe.error).toMatch(/probes\.coincap_api: http:\/\/127\.0\.0\.1:\d+\/v2 is not available: answered 503/);
      expect(report.assets.find((a) => a.asset === 'source:coincap_gaps')!.status).toBe('blocked');
    } finally {
      await control({ down: false });
    }
  }, 60_000);
});
