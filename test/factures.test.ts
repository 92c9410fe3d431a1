import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import mariadb from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { AssetGraph } from '../src/orchestration/assets.js';
import { runBuild } from '../src/orchestration/build.js';
import { loadGraph } from '../src/models/run.js';
import { buildServer } from '../src/serve/server.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
// @ts-expect-error: the example's scripts are plain JavaScript, run by `node` as users run them
import { loadSeed } from '../examples/factures/load.mjs';
// @ts-expect-error: as above
import { createSimulator, products } from '../examples/factures/simulator.mjs';
import { generateDocuments } from './support/invoices.js';
import { rows } from './support/project.js';
import { ROOT, cli, freePort, startCli, tempDir, waitFor } from './support/helpers.js';

// examples/factures (seed 000) fed with the seed's own files: its raw zone (files, the database export loaded into
// MariaDB, the API invoices) through the three sources, the enrichment from a REST Countries simulator and the
// hourly KPIs, compared number for number with the seed's curated summaries; the analytics API in the seed's paths
// and shapes; the publication to `factures-enriched` and the consumer's streaming zone; then `tributary dev` running
// the OCR job from its inbox sensor, and a failing daily job seen firing through a real Prometheus.
const addFormats = addFormatsModule as unknown as FormatsPlugin;
const SEED = path.join(ROOT, 'examples/factures/seed');
type Summary = Record<string, unknown> & { date: string };
const curated = (date: string) => JSON.parse(readFileSync(path.join(SEED, `curated/analytics/${date}/analytics_summary_${date}.json`), 'utf8')) as Summary;

interface Served {
  path: string;
  query: string;
  seed?: number;
  count: number;
}
const simulator = createSimulator() as { server: import('node:http').Server; served: Served[] };
const database = `factures_t${process.pid}`;
const dbUrl = `mariadb://root@127.0.0.1:3306/${database}`;
let dir: string;
let api: string;
let lake: Lake;
const env = () => ({ FACTURES_DB: dbUrl, FAKERAPI_URL: `${api}/api/v2`, RESTCOUNTRIES_URL: `${api}/v3.1` });

async function openLake(): Promise<Lake> {
  Object.assign(process.env, env());
  try {
    return await Lake.open(await loadConfig(dir, { required: true }));
  } finally {
    for (const k of Object.keys(env())) delete process.env[k];
  }
}
const daily = () => runBuild(lake, { select: lake.config.jobs.daily!.select });
const analytics = () => runBuild(lake, { select: lake.config.jobs.analytics!.select });
const countryRequests = () => simulator.served.filter((s) => s.path === '/v3.1/alpha');

beforeAll(async () => {
  await new Promise<void>((resolve) => simulator.server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(simulator.server.address() as AddressInfo).port}`;
  dir = path.join(tempDir('trib-factures-'), 'factures');
  copyProjectFiles(path.join(ROOT, 'examples/factures'), dir);
  expect(await loadSeed({ project: dir, db: dbUrl })).toEqual({ files: 10, apiFiles: 4, dbRows: 75 });
  lake = await openLake();
}, 120_000);

afterAll(async () => {
  await lake?.close();
  const conn = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  await conn.query(`DROP DATABASE IF EXISTS ${database}`);
  await conn.end();
  simulator.server.closeAllConnections();
  await new Promise((resolve) => simulator.server.close(resolve));
});

describe('examples/factures (seed 000) on the seed’s own files', () => {
  it('orders the lookup after the tables its keys come from', async () => {
    const graph = new AssetGraph(lake.config, await loadGraph(lake));
    expect(graph.get('source:countries').upstream.sort()).toEqual(['silver.factures_api', 'silver.factures_db', 'silver.factures_files']);
    expect(graph.get('silver.factures_api_enriched').upstream).toContain('source:countries');
  });

  it('reproduces the seed’s curated summaries number for number', { timeout: 180_000 }, async () => {
    const first = await daily();
    expect(
      first.assets.filter((a) => a.status !== 'success'),
      JSON.stringify(first.assets),
    ).toEqual([]);
    expect((await analytics()).status).toBe('success');

    for (const date of ['2026-02-25', '2026-03-16']) {
      const [row] = await rows(lake, `SELECT summary FROM gold.analytics WHERE date = '${date}'`);
      expect(JSON.parse(String(row!.summary)), date).toEqual(curated(date));
    }
    // Every day of the seed's API zone has its summary, and so has the day FakerAPI was polled.
    const [{ today }] = (await rows(lake, "SELECT strftime(CAST(max(_ingested_at) AS DATE), '%Y-%m-%d') AS today FROM bronze.fakerapi_products")) as [
      { today: string },
    ];
    const dates = (await rows(lake, 'SELECT date FROM gold.analytics ORDER BY date')).map((r) => r.date);
    expect(dates).toEqual([...new Set(['2026-02-25', '2026-03-02', '2026-03-16', '2026-03-17', today])].sort());

    // The files source: 20 invoices a day, each in a CSV and a JSON file, once in silver; the database's 75 rows.
    const [counts] = await rows(
      lake,
      `SELECT (SELECT count(*) FROM bronze.factures_files) AS landed, (SELECT count(*) FROM silver.factures_files) AS files,
              (SELECT count(*) FROM silver.factures_db) AS db, (SELECT count(*) FROM silver.factures WHERE country_region IS NULL) AS unenriched`,
    );
    expect(counts).toEqual({ landed: 200, files: 100, db: 75, unenriched: 0 });

    // The enrichment of the seed's clean zone, from one REST Countries request for the four countries.
    expect(countryRequests()).toHaveLength(1);
    expect(new URLSearchParams(countryRequests()[0]!.query).get('codes')!.split(',').sort()).toEqual(['DE', 'ES', 'FR', 'IT']);
    const enriched = await rows(
      lake,
      `SELECT pays, country_region, country_subregion, currency_code, currency_name, count(*) AS n FROM silver.factures_api_enriched GROUP BY ALL ORDER BY pays`,
    );
    expect(enriched.map(({ n: _n, ...r }) => r)).toEqual([
      { pays: 'DE', country_region: 'Europe', country_subregion: 'Western Europe', currency_code: 'EUR', currency_name: 'Euro' },
      { pays: 'ES', country_region: 'Europe', country_subregion: 'Southern Europe', currency_code: 'EUR', currency_name: 'Euro' },
      { pays: 'FR', country_region: 'Europe', country_subregion: 'Western Europe', currency_code: 'EUR', currency_name: 'Euro' },
      { pays: 'IT', country_region: 'Europe', country_subregion: 'Southern Europe', currency_code: 'EUR', currency_name: 'Euro' },
    ]);

    // The day polled from FakerAPI: each product an invoice, HT its price and TTC 1.2 times it, as the seed maps them.
    const polled = simulator.served.filter((s) => s.path === '/api/v2/products');
    expect(polled).toHaveLength(1);
    const served = (products(1000, polled[0]!.seed) as { id: number; ean: string; name: string; price: number }[]).map((p) => ({
      id_facture: p.id,
      produit_code: p.ean,
      produit_nom: p.name,
      montant_ht: p.price.toFixed(2),
      montant_ttc: (Math.round(p.price * 120) / 100).toFixed(2),
    }));
    const mapped = await rows(
      lake,
      `SELECT id_facture, produit_code, produit_nom, CAST(montant_ht AS VARCHAR) AS montant_ht, CAST(montant_ttc AS VARCHAR) AS montant_ttc
       FROM silver.factures_api WHERE date_facture = '${today}' ORDER BY id_facture`,
    );
    expect(mapped).toEqual(served);
  });

  it('answers the seed’s analytics API paths in its shapes, with their OpenAPI schemas', async () => {
    const { app } = await buildServer(lake);
    try {
      const doc = (await app.inject('/openapi.json')).json() as Record<string, unknown>;
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addSchema(doc, 'openapi');
      const check = async (url: string, pathName: string) => {
        const res = await app.inject(url);
        expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
        const validate = ajv.getSchema(`openapi#/paths/${pathName.replaceAll('/', '~1')}/get/responses/200/content/application~1json/schema`);
        expect(validate, `${pathName} has a response schema`).toBeDefined();
        expect(validate!(res.json()), `${url}: ${JSON.stringify(validate!.errors)}`).toBe(true);
        return res.json() as Record<string, unknown>;
      };
      expect(await check('/api/analytics/summary?date=2026-03-16', '/api/analytics/summary')).toEqual(curated('2026-03-16'));
      const seedDay = curated('2026-02-25');
      expect(await check('/api/analytics/by_region?date=2026-02-25', '/api/analytics/by_region')).toEqual({ date: '2026-02-25', by_region: seedDay.by_region });
      expect(await check('/api/analytics/by_country?date=2026-02-25', '/api/analytics/by_country')).toEqual({
        date: '2026-02-25',
        by_country: seedDay.by_country,
      });
      const { dates } = (await check('/api/analytics/dates', '/api/analytics/dates')) as { dates: string[] };
      expect(dates).toEqual([...dates].sort().reverse());
      expect(dates).toEqual(expect.arrayContaining(['2026-03-17', '2026-03-16', '2026-03-02', '2026-02-25']));
      // Without a date, the latest day; a day without a summary is a 404 naming it (the seed answered another day).
      expect(((await check('/api/analytics/summary', '/api/analytics/summary')) as Summary).date).toBe(dates[0]);
      const missing = await app.inject('/api/analytics/summary?date=1999-01-01');
      expect(missing.statusCode).toBe(404);
      expect(missing.body).toContain('1999-01-01');
      // The generic API, the pipeline's status and the dashboard stay under /api/v1.
      expect((await app.inject('/api/v1/pipeline-status')).statusCode).toBe(200);
      expect((await app.inject('/api/v1/analytics/summary')).statusCode).toBe(404);
      expect((await app.inject('/api/v1/tables/gold/analytics_by_country?date=2026-02-25')).json()).toMatchObject({ total: 4 });
    } finally {
      await app.close();
    }
  });

  it('publishes the enriched invoices to factures-enriched once, and the consumer lands them in the streaming zone', { timeout: 180_000 }, async () => {
    const streaming = () => runBuild(lake, { select: lake.config.jobs.streaming!.select });
    expect((await streaming()).status).toBe('success');
    const same = `SELECT count(*) AS n FROM (
        (SELECT date_facture, id_facture, montant_ht, montant_ttc, country_region FROM silver.factures_api_enriched
         EXCEPT SELECT date_facture, id_facture, montant_ht, montant_ttc, country_region FROM streaming.factures_enriched)
        UNION ALL
        (SELECT date_facture, id_facture, montant_ht, montant_ttc, country_region FROM streaming.factures_enriched
         EXCEPT SELECT date_facture, id_facture, montant_ht, montant_ttc, country_region FROM silver.factures_api_enriched))`;
    expect(await rows(lake, same)).toEqual([{ n: 0 }]);
    expect(await rows(lake, 'SELECT count(*) AS received FROM streaming.factures_enriched_raw')).toEqual([{ received: 5000 }]);

    // The next day's run: FakerAPI polled again (the day's invoices replaced), the countries known (no request),
    // only what the new snapshot added published, and the streaming zone again equal to the clean zone.
    const again = await daily();
    expect(again.status).toBe('success');
    expect(countryRequests()).toHaveLength(1);
    expect((await streaming()).status).toBe('success');
    expect(await rows(lake, same)).toEqual([{ n: 0 }]);
    expect(await rows(lake, 'SELECT count(*) AS received FROM streaming.factures_enriched_raw')).toEqual([{ received: 6000 }]);
  });

  it('in `tributary dev`: the inbox sensor runs the OCR job; a failing daily job fires TributaryJobFailed in Prometheus', { timeout: 300_000 }, async () => {
    await lake.close();
    const scans = (await generateDocuments()).filter((d) => d.name === 'fr-acme.pdf' || d.name === 'fr-martin-bad-totals.pdf');
    for (const scan of scans) writeFileSync(path.join(dir, 'inbox', scan.name), scan.bytes);
    const cleanups: (() => void)[] = [];
    try {
      const port = await freePort();
      const dev = startCli(['dev', '--port', String(port), '--project', dir], { env: env(), cleanup: (fn) => cleanups.push(fn) });
      const devApi = async (p: string) => (await fetch(`http://127.0.0.1:${port}${p}`)).json() as Promise<Record<string, unknown>>;
      await waitFor('dev to listen', async () => dev.out().includes('tributary dev:'));

      // The OCR job, fired by the sensor's first look at the inbox: both scans read, one sent to review.
      await waitFor('the OCR run', async () => ((await devApi('/api/v1/orchestration/runs?job=ocr')).runs as { status: string }[])[0]?.status === 'success');
      // The served tables follow new snapshots within a second.
      const documents = await waitFor('the OCR results served', async () => {
        const served = (await devApi('/api/v1/tables/gold/ocr_documents?sort=file')).rows as Record<string, unknown>[] | undefined;
        return served?.length === 2 ? served : undefined;
      });
      expect(documents.map((d) => [d.file, d.doc_type, d.status])).toEqual([
        ['inbox/fr-acme.pdf', 'invoice', 'ok'],
        ['inbox/fr-martin-bad-totals.pdf', 'invoice', 'review'],
      ]);
      expect(documents[0]).toMatchObject({ invoice_number: 'FA-2024-0117', vendor: 'ACME Fournitures SARL', total_ttc: 1620 });
      expect(readdirSync(path.join(dir, 'inbox', 'processed')).sort()).toEqual(['fr-acme.pdf', 'fr-martin-bad-totals.pdf']);
      expect(existsSync(path.join(dir, 'inbox', 'fr-acme.pdf'))).toBe(false);

      // Every chart of the dashboard has rows to show.
      const pages = (await devApi('/api/v1/dashboard')).pages as { charts: { source: string; title: string }[] }[];
      for (const chart of pages.flatMap((p) => p.charts)) {
        const body = await devApi(chart.source.startsWith('/api/') ? chart.source : `/api/v1${chart.source}`);
        expect((body.rows as unknown[] | undefined)?.length, `${chart.title}: ${JSON.stringify(body)}`).toBeGreaterThan(0);
      }

      // Prometheus scraping dev, with the exported rules; the daily job fails while FakerAPI is down.
      const out = tempDir('trib-factures-prom-');
      const exported = await cli(['monitoring', 'export', out, '--target', `127.0.0.1:${port}`, '--scrape-interval', '2s', '--project', dir], { env: env() });
      expect(exported.code, exported.stderr).toBe(0);
      const promPort = await freePort();
      const prometheus = spawn(
        'prometheus',
        [`--config.file=${path.join(out, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(out, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
        { stdio: 'ignore' },
      );
      cleanups.push(() => void prometheus.kill('SIGTERM'));
      await fetch(`${api}/_control`, { method: 'POST', body: JSON.stringify({ down: 'products' }) });
      const failed = await cli(['jobs', 'run', 'daily', '--project', dir], { env: env() });
      await fetch(`${api}/_control`, { method: 'POST', body: JSON.stringify({ down: null }) });
      expect(failed.code).not.toBe(0);
      expect(failed.stdout + failed.stderr).toMatch(/source:factures_api +failed/);
      const firing = await waitFor('TributaryJobFailed to fire', async () => {
        const alerts = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return alerts.data.alerts.find((a) => a.state === 'firing' && a.labels.alertname === 'TributaryJobFailed');
      });
      expect(firing.labels.job_name).toBe('daily');
      dev.child.kill('SIGINT');
      expect(await dev.exited).toBe(0);
    } finally {
      for (const fn of cleanups) fn();
      lake = await openLake();
    }
  });
});
