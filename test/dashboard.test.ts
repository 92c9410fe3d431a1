import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runDemo } from '../src/demo/demo.js';
import { Lake } from '../src/lake/lake.js';
import { buildServer } from '../src/serve/server.js';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { produceGenerated } from '../src/produce/produce.js';
import { runStream } from '../src/streams/worker.js';
import { pino } from 'pino';
import { projectWorker } from '../src/orchestration/notify.js';
import { Orchestration } from '../src/orchestration/orchestration.js';
import { ROOT, tempDir } from './support/helpers.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

/** Debian's chromium (installed by .ci/run); playwright-core drives it, no browser download. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** `SCREENSHOT_DIR=docs/screenshots npx vitest run test/dashboard.test.ts` refreshes the README's pictures. */
const SHOTS = process.env.SCREENSHOT_DIR ? path.resolve(process.env.SCREENSHOT_DIR) : tempDir('trib-shots-');

let lake: Lake;
let app: FastifyInstance;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  const dir = path.join(tempDir('trib-dash-'), 'retail');
  await runDemo(dir, { seed: 42, rows: 4000 });
  lake = await Lake.open(await loadConfig(dir));
  ({ app } = await buildServer(lake));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await lake?.close();
});

async function openPage(id: string) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/#/${id}`);
  await page.waitForFunction((p) => document.body.dataset.ready === p, id, { timeout: 15_000 });
  return { page, errors };
}

/** Data points of every Chart.js chart on the page. */
const chartPoints = () =>
  Object.values((window as unknown as { Chart: { instances: Record<string, { data: { datasets: { data: number[] }[] } }> } }).Chart.instances).map(
    (c) => c.data.datasets[0]?.data.filter((v) => Number.isFinite(v)).length ?? 0,
  );

describe('dashboard in headless Chromium', () => {
  for (const id of ['overview', 'revenue', 'clients', 'products', 'pipeline']) {
    it(`page ${id} loads without console errors and shows real data`, async () => {
      const { page, errors } = await openPage(id);
      try {
        expect(await page.locator('.card .error').count()).toBe(0);
        const points = await page.evaluate(chartPoints);
        if (id !== 'pipeline') expect(points.length, 'charts drawn').toBeGreaterThan(0);
        for (const n of points) expect(n).toBeGreaterThan(0);
        if (id === 'pipeline' || id === 'overview') expect(await page.locator('table tbody tr').count()).toBeGreaterThan(0);
        await page.screenshot({ path: path.join(SHOTS, `${id}.png`), fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }, 60_000);
  }

  it('a filter changes the table, and a granularity changes the time series', async () => {
    const { page, errors } = await openPage('clients');
    try {
      const pays = () => page.locator('[data-chart="Liste des clients"] tbody tr td:nth-child(4)').allTextContents();
      expect(new Set(await pays()).size).toBeGreaterThan(1);
      await page.fill('[aria-label="filtrer pays"]', 'France');
      await page.waitForFunction(
        () => {
          const cells = [...document.querySelectorAll('[data-chart="Liste des clients"] tbody tr td:nth-child(4)')].map((c) => c.textContent);
          return cells.length > 0 && cells.every((c) => c === 'France');
        },
        undefined,
        { timeout: 10_000 },
      );
      expect(new Set(await pays())).toEqual(new Set(['France']));

      await page.goto(`${base}/#/revenue`);
      await page.waitForFunction(() => document.body.dataset.ready === 'revenue');
      const labels = () =>
        page.evaluate(() =>
          Object.values((window as unknown as { Chart: { instances: Record<string, { data: { labels: string[] } }> } }).Chart.instances).map(
            (c) => c.data.labels.length,
          ),
        );
      expect((await labels())[0]).toBe(12); // months
      await page.selectOption('[aria-label="granularité de CA par période"]', 'jour');
      await page.waitForFunction(() =>
        Object.values((window as unknown as { Chart: { instances: Record<string, { data: { labels: string[] } }> } }).Chart.instances).some(
          (c) => c.data.labels.length > 12,
        ),
      );
      expect(Math.max(...(await labels()))).toBeGreaterThan(300); // days
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});

describe('the ventes-live dashboard in headless Chromium', () => {
  it('shows the stream outputs live: a new snapshot appears without reloading', async () => {
    const dir = path.join(tempDir('trib-dash-live-'), 'ventes-live');
    copyProjectFiles(path.join(ROOT, 'examples/ventes-live'), dir);
    const config = await loadConfig(dir);
    config.serve.refreshMs = 200;
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    await log.createTopic('ventes-temps-reel', 3);
    await produceGenerated(log, 'ventes-temps-reel', {
      count: 600,
      rate: 2,
      pace: false,
      start: Date.parse('2026-11-22T09:00:00Z'),
      seed: 8,
      countries: ['France', 'Spain'],
    });
    await runStream(config, 'ventes-live', { availableNow: true });
    const liveLake = await Lake.open(config);
    const { app: liveApp } = await buildServer(liveLake);
    const url = await liveApp.listen({ port: 0, host: '127.0.0.1' });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(`${url}/#/live`);
      await page.waitForFunction(() => document.body.dataset.ready === 'live', undefined, { timeout: 15_000 });
      expect(await page.evaluate(chartPoints)).toEqual([2]); // total sales of the closed windows, per country
      const closedRows = () => page.locator('[data-chart="Dernières minutes closes"] tbody tr').count();
      expect(await closedRows()).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(SHOTS, 'ventes-live.png'), fullPage: true });
      // Italy appears once the stream commits its events: the page follows new snapshots by itself.
      await produceGenerated(log, 'ventes-temps-reel', {
        count: 600,
        rate: 2,
        pace: false,
        start: Date.parse('2026-11-22T09:05:00Z'),
        seed: 9,
        countries: ['Italy'],
      });
      await runStream(config, 'ventes-live', { availableNow: true });
      await page.waitForFunction(() => document.querySelector('[data-chart="Dernières minutes closes"]')?.textContent?.includes('Italy'), undefined, {
        timeout: 20_000,
      });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await liveApp.close();
      await liveLake.close();
      await log.close();
    }
  }, 90_000);
});

describe('orchestration pages in headless Chromium', () => {
  it('show the asset graph with states, runs with tasks and logs, and schedules with next fire times', { timeout: 180_000 }, async () => {
    const orch = await Orchestration.open(lake);
    // Built by the demo outside any job: its tables hold data, so the assets are "materialized", not "never run".
    const before = (await (await fetch(`${base}/api/v1/orchestration/assets`)).json()) as { assets: { key: string; status: string }[] };
    expect(before.assets.find((a) => a.key === 'gold.fact_ventes')!.status).toBe('materialized');
    expect(before.assets.find((a) => a.key === 'sync:gold.dim_clients')!.status).toBe('never run');
    const worker = projectWorker(lake.config, orch.queue, pino({ level: 'silent' }), { concurrency: 2 });
    worker.start();
    const runId = await orch.launch('nightly');
    try {
      for (let i = 0; i < 600 && ['queued', 'running'].includes((await orch.lake.catalog.runs.get(runId))!.status); i++)
        await new Promise((r) => setTimeout(r, 250));
    } finally {
      await worker.stop(0);
    }
    expect((await orch.lake.catalog.runs.get(runId))!.status).toBe('success');

    const assets = await openPage('_assets');
    const boxes = await assets.page.$$eval('svg.asset-graph g[data-asset]', (gs) =>
      gs.map((g) => [g.getAttribute('data-asset'), g.getAttribute('data-status')]),
    );
    expect(boxes.length).toBe(orch.graph.order.length);
    const states = Object.fromEntries(boxes);
    expect(states['gold.fact_ventes']).toBe('success');
    expect(states['source:clients']).toBe('success');
    expect(states['sync:gold.dim_clients'] ?? 'never run').toBe('never run');
    expect(await assets.page.$$eval('svg.asset-graph path.edge', (p) => p.length)).toBeGreaterThan(10);
    await assets.page.screenshot({ path: path.join(SHOTS, 'assets.png'), fullPage: true });

    // The demo's pages are French, and so are the dashboard's own words (serve.dashboard.locale: 'fr').
    expect(await assets.page.$$eval('nav a', (as) => as.map((a) => a.textContent))).toEqual(
      expect.arrayContaining(["Vue d'ensemble", 'Actifs', 'Exécutions', 'Planifications']),
    );
    expect(await assets.page.getAttribute('html', 'lang')).toBe('fr');
    expect(await assets.page.textContent('[data-chart="Assets"] thead')).toBe('actiftypedernier statutexécutionlignesdernier commitattend');
    expect(await assets.page.textContent('[data-chart="Assets"] tbody')).toContain('succès');

    const runs = await openPage('_runs');
    const runsText = await runs.page.textContent('[data-chart="Runs"]');
    expect(await runs.page.textContent('[data-chart="Runs"] h2')).toBe('Exécutions');
    expect(runsText).toContain(runId);
    // Runs started from the CLI (the demo's ingestion and models) are listed beside job runs.
    expect(runsText).toMatch(/ingest-\d{8}T\S+ingest/);
    expect(runsText).toMatch(/run-\d{8}T\S+models/);
    await runs.page.click(`a[href="#/_runs/${runId}"]`);
    await runs.page.waitForSelector('[data-chart="Run"]');
    const runText = await runs.page.textContent('[data-chart="Run"]');
    expect(runText).toContain('nightly · manual');
    expect(runText).toContain('gold.fact_ventes');
    await runs.page.click('details[data-attempt="source:achats#1"] summary');
    expect(await runs.page.textContent('details[data-attempt="source:achats#1"] pre')).toMatch(/ingested \d+ file\(s\) into bronze\.achats/);
    await runs.page.screenshot({ path: path.join(SHOTS, 'run.png'), fullPage: true });

    const schedules = await openPage('_schedules');
    const scheduleText = await schedules.page.textContent('[data-chart="Schedules"]');
    expect(scheduleText).toContain('0 2 * * *');
    expect(scheduleText).toContain('Europe/Paris');
    expect(await schedules.page.$eval('[data-chart="Schedules"] tbody tr td:nth-child(4)', (td) => td.textContent)).toMatch(/\d/); // next fire time
    expect(await schedules.page.textContent('[data-chart="Sensors"]')).toContain('new_files');
    for (const p of [assets, runs, schedules]) {
      expect(p.errors).toEqual([]);
      await p.page.close();
    }
  });
});
