import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runDemo } from '../src/demo/demo.js';
import { Lake } from '../src/lake/lake.js';
import { runModels } from '../src/models/run.js';
import { buildServer } from '../src/serve/server.js';
import { tempDir } from './support/helpers.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

let dir: string;
let lake: Lake;
let app: FastifyInstance;

beforeAll(async () => {
  dir = path.join(tempDir('trib-serve-'), 'retail');
  await runDemo(dir, { seed: 11, rows: 1500 });
  lake = await Lake.open(await loadConfig(dir));
  ({ app } = await buildServer(lake));
}, 120_000);

afterAll(async () => {
  await app.close();
  await lake.close();
});

const get = async (url: string, headers: Record<string, string> = {}) => {
  const response = await app.inject({ method: 'GET', url, headers });
  return {
    status: response.statusCode,
    body: String(response.headers['content-type'] ?? '').includes('json') ? response.json() : response.body,
    headers: response.headers,
  };
};

describe('generic table API', () => {
  it('lists exposed tables with schema and snapshot, and serves /health', async () => {
    const { status, body } = await get('/api/v1/tables');
    expect(status).toBe(200);
    const names = body.tables.map((t: { name: string }) => t.name);
    expect(names).toContain('gold.dim_clients');
    expect(names.every((n: string) => n.startsWith('gold.'))).toBe(true);
    expect(body.tables.find((t: { name: string }) => t.name === 'gold.dim_clients')).toMatchObject({
      key: 'id_client',
      snapshot: 1,
      columns: expect.arrayContaining([{ name: 'pays', type: 'VARCHAR' }]),
    });
    expect((await get('/health')).body).toMatchObject({ status: 'ok', tables: names.length });
  });

  it('pages with a cursor, sorted, with the chosen fields; every response names its snapshot', async () => {
    const page1 = (await get('/api/v1/tables/gold/dim_clients?limit=5&sort=-total_ca&fields=id_client,total_ca,pays')).body;
    expect(page1).toMatchObject({ table: 'gold.dim_clients', snapshot: 1, limit: 5, offset: 0 });
    expect(Object.keys(page1.rows[0])).toEqual(['id_client', 'total_ca', 'pays']);
    expect(page1.rows.map((r: { total_ca: number }) => r.total_ca)).toEqual([...page1.rows.map((r: { total_ca: number }) => r.total_ca)].sort((a, b) => b - a));
    const page2 = (await get(`/api/v1/tables/gold/dim_clients?limit=5&sort=-total_ca&fields=id_client,total_ca,pays&cursor=${page1.next_cursor}`)).body;
    expect(page2.offset).toBe(5);
    expect(page2.rows[0].total_ca).toBeLessThanOrEqual(page1.rows[4].total_ca);
  });

  it('filters on equality, on lists and on ranges, dates included', async () => {
    const fr = (await get('/api/v1/tables/gold/dim_clients?pays=France&limit=1000')).body;
    expect(fr.total).toBeGreaterThan(0);
    expect(fr.rows.every((r: { pays: string }) => r.pays === 'France')).toBe(true);
    const two = (await get('/api/v1/tables/gold/dim_clients?pays.in=France,Spain&total_ca.gte=1000&total_ca.lt=3000&limit=1000')).body;
    expect(two.rows.every((r: { pays: string; total_ca: number }) => ['France', 'Spain'].includes(r.pays) && r.total_ca >= 1000 && r.total_ca < 3000)).toBe(
      true,
    );
    const dated = (await get('/api/v1/tables/gold/fact_ventes?date_achat.gte=2024-06-01&date_achat.lte=2024-06-30&limit=1000')).body;
    expect(dated.rows.every((r: { date_achat: string }) => r.date_achat >= '2024-06-01' && r.date_achat <= '2024-06-30')).toBe(true);
  });

  it('gets a row by key, and aggregates declared measures by declared dimensions and periods', async () => {
    const some = (await get('/api/v1/tables/gold/dim_clients?limit=1')).body.rows[0];
    expect((await get(`/api/v1/tables/gold/dim_clients/${some.id_client}`)).body.row).toEqual(some);
    expect((await get('/api/v1/tables/gold/dim_clients/99999999')).status).toBe(404);
    const agg = (await get('/api/v1/aggregations/gold/fact_ventes?measure=sum(montant)&measure=count(*)&by=produit&period=month')).body;
    expect(agg.rows[0]).toEqual({
      period: expect.stringMatching(/^2024-\d\d-01$/),
      produit: expect.any(String),
      'sum(montant)': expect.any(Number),
      'count(*)': expect.any(Number),
    });
    const total = (await get('/api/v1/aggregations/gold/fact_ventes?measure=sum(montant)')).body.rows[0]['sum(montant)'];
    const byMonth = (await get('/api/v1/aggregations/gold/fact_ventes?measure=sum(montant)&period=month')).body.rows;
    expect(byMonth.reduce((n: number, r: Record<string, number>) => n + r['sum(montant)']!, 0)).toBeCloseTo(total, 4);
  });

  it('answers bad input with 400 naming the parameter, unknown tables with 404', async () => {
    const cases: [string, number, string][] = [
      ['/api/v1/tables/gold/dim_clients?limit=5000', 400, 'limit'],
      ['/api/v1/tables/gold/dim_clients?limit=abc', 400, 'limit'],
      ['/api/v1/tables/gold/dim_clients?nope=1', 400, 'nope'],
      ['/api/v1/tables/gold/dim_clients?total_ca=lots', 400, 'total_ca'],
      ['/api/v1/tables/gold/dim_clients?total_ca.between=1', 400, 'total_ca.between'],
      // Never reinterpreted: two operators are not the first one, an overflowing number is not infinity.
      ['/api/v1/tables/gold/dim_clients?total_ca.gt.lt=1', 400, 'total_ca.gt.lt'],
      ['/api/v1/tables/gold/dim_clients?total_ca=1e400', 400, 'total_ca'],
      ['/api/v1/tables/gold/dim_clients?total_ca.gte=-1e400', 400, 'total_ca.gte'],
      ['/api/v1/tables/gold/dim_clients?id_client=1e3', 400, 'id_client'],
      ['/api/v1/tables/gold/dim_clients?sort=-nope', 400, 'sort'],
      ['/api/v1/tables/gold/dim_clients?fields=a,b', 400, 'fields'],
      ['/api/v1/tables/gold/dim_clients?cursor=garbage', 400, 'cursor'],
      ['/api/v1/aggregations/gold/fact_ventes?measure=max(montant)', 400, 'measure'],
      ['/api/v1/aggregations/gold/fact_ventes?measure=sum(montant)&by=email', 400, 'by'],
      ['/api/v1/aggregations/gold/fact_ventes', 400, 'measure'],
      ['/api/v1/aggregations/ca-par-periode?periode=semaine', 400, 'periode'],
      ['/api/v1/tables/gold/dim_clients/abc', 400, 'key'],
      ['/api/v1/clients/abc', 400, 'id'],
      ['/api/v1/ventes?date_debut=yesterday', 400, 'date_debut'],
    ];
    for (const [url, status, parameter] of cases) {
      const r = await get(url);
      expect(r.status, url).toBe(status);
      expect(r.body.parameter ?? r.body.message, url).toContain(parameter);
    }
    expect((await get('/api/v1/tables/gold/nope')).status).toBe(404);
    expect((await get('/api/v1/tables/silver/achats')).status).toBe(404); // exists, but not exposed
    expect((await get('/api/v1/nowhere')).status).toBe(404);
  });

  it('lets no input reach SQL except as a bound value or a whitelisted identifier', async () => {
    const before = (await lake.tables()).map((t) => [t.name, t.currentSnapshot]);
    const attempts = [
      "/api/v1/tables/gold/dim_clients?pays=France'%20OR%20'1'='1",
      '/api/v1/tables/gold/dim_clients?pays.in=France%27)%20OR%20(1=1',
      '/api/v1/tables/gold/dim_clients?sort=id_client;DROP%20VIEW%20x',
      '/api/v1/tables/gold/dim_clients?fields=id_client,(SELECT%201)',
      '/api/v1/tables/gold/dim_clients?%22pays%22=1',
      '/api/v1/tables/gold/dim_clients?id_client=1%20OR%201=1',
      '/api/v1/tables/gold/dim_clients%22;%20DROP%20TABLE%20x;--',
      "/api/v1/tables/gold/dim_clients/1'%20OR%20'1'='1",
      '/api/v1/aggregations/gold/fact_ventes?measure=sum(montant);COPY%20x%20TO%20%27/tmp/x%27',
      '/api/v1/aggregations/gold/fact_ventes?measure=sum(montant)&by=produit,(SELECT%201)',
      "/api/v1/clients?pays=x'%20UNION%20SELECT%20*%20FROM%20silver.clients--",
      '/api/v1/ventes?date_debut=2024-01-01%27;--',
    ];
    for (const url of attempts) {
      const r = await get(url);
      expect([200, 400, 404], url).toContain(r.status);
      if (r.status === 200) expect(r.body.rows ?? [r.body.row], url).toEqual([]);
      expect(JSON.stringify(r.body), url).not.toMatch(/at .*\.js:|Binder Error|Parser Error/);
    }
    expect((await lake.tables()).map((t) => [t.name, t.currentSnapshot])).toEqual(before);
  });
});

describe("seed 002's endpoints (examples/retail)", () => {
  it('serves clients, produits, ventes, kpis, pipeline and aggregations', async () => {
    const clients = (await get('/api/v1/clients?pays=Belgium&limit=3')).body;
    expect(clients.rows).toHaveLength(3);
    expect(clients.rows.every((c: { pays: string }) => c.pays === 'Belgium')).toBe(true);
    expect((await get(`/api/v1/clients/${clients.rows[0].id_client}`)).body.row.id_client).toBe(clients.rows[0].id_client);
    expect((await get('/api/v1/produits')).body.rows).toHaveLength(10);
    const ventes = (await get(`/api/v1/ventes?client=${clients.rows[0].id_client}&date_debut=2024-01-01&date_fin=2024-12-31`)).body;
    expect(ventes.rows.every((v: { id_client: number }) => v.id_client === clients.rows[0].id_client)).toBe(true);
    for (const kpi of ['ca-par-jour', 'ca-par-mois', 'ca-par-pays', 'volume-par-produit', 'top-clients', 'stats-distribution']) {
      const r = await get(`/api/v1/kpis/${kpi}`);
      expect(r.status, kpi).toBe(200);
      expect(r.body.rows.length, kpi).toBeGreaterThan(0);
    }
    expect((await get('/api/v1/pipeline/status')).body).toMatchObject({ status: 'success', tables: expect.any(Array), failing_checks: expect.any(Array) });
    expect((await get('/api/v1/pipeline/refresh-times')).body.tables[0]).toMatchObject({
      table: expect.stringMatching(/^gold\./),
      age_seconds: expect.any(Number),
    });
    // Money is DECIMAL end to end: sums are exact cents in SQL and in the API's JSON (no 12580.300000000001).
    const [type] = (await lake.query('DESCRIBE SELECT ca FROM gold.kpi_ca_par_mois')).rows;
    expect(type!.column_type).toBe('DECIMAL(38,2)');
    for (const row of (await get('/api/v1/kpis/ca-par-mois')).body.rows as { ca: number }[]) expect(String(row.ca)).toMatch(/^-?\d+(\.\d{1,2})?$/);
    const total = (await get('/api/v1/aggregations/ca-total')).body.rows[0];
    expect(String(total.ca_total)).toMatch(/^-?\d+(\.\d{1,2})?$/);
    const byYear = (await get('/api/v1/aggregations/ca-par-periode?periode=annee')).body.rows;
    expect(byYear).toHaveLength(1);
    expect(byYear[0].ca).toBeCloseTo(total.ca_total, 2);
  });

  it('picks up new snapshots without restart', async () => {
    await runModels(lake, { targets: ['gold.kpi_ca_par_mois'], fullRefresh: true });
    // The poller runs every second; wait for it rather than calling it.
    let snapshot = 1;
    for (let i = 0; i < 40 && snapshot === 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      snapshot = (await get('/api/v1/kpis/ca-par-mois')).body.snapshot;
    }
    expect(snapshot).toBe(2);
  });
});

describe('OpenAPI', () => {
  it('publishes an OpenAPI 3.1 document that a validator accepts, and interactive docs', async () => {
    const spec = (await get('/openapi.json')).body;
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/tables/{layer}/{table}',
        '/api/v1/aggregations/{layer}/{table}',
        '/api/v1/clients/{id}',
        '/api/v1/kpis/ca-par-jour',
        '/health',
      ]),
    );
    const result = await new Validator().validate(spec);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect((await get('/docs/')).status).toBe(200);
  });
});

describe('security', () => {
  it('requires a bearer token when configured (not for /health), and sends CORS headers only when configured', async () => {
    const config = await loadConfig(dir);
    config.serve = { ...config.serve, auth: { tokens: ['s3cret-token'] }, cors: { origins: ['https://bi.example.org'] }, rateLimit: { max: 30 } };
    const secured = await Lake.open(config);
    const { app: locked } = await buildServer(secured);
    try {
      const call = (url: string, headers: Record<string, string> = {}) => locked.inject({ method: 'GET', url, headers });
      expect((await call('/api/v1/tables')).statusCode).toBe(401);
      expect((await call('/api/v1/tables', { authorization: 'Bearer wrong' })).statusCode).toBe(401);
      expect((await call('/api/v1/tables', { authorization: 'Bearer s3cret-token' })).statusCode).toBe(200);
      // The scheme is case-insensitive (RFC 7235), the token is not.
      expect((await call('/api/v1/tables', { authorization: 'bearer s3cret-token' })).statusCode).toBe(200);
      expect((await call('/api/v1/tables', { authorization: 'BEARER S3CRET-TOKEN' })).statusCode).toBe(401);
      expect((await call('/health')).statusCode).toBe(200);
      // Every route with data needs the token; the pages without data do not.
      for (const url of [
        '/api/v1/clients',
        '/api/v1/kpis/ca-par-mois',
        '/api/v1/dashboard',
        '/api/v1/orchestration/runs',
        '/api/v1/pipeline-status',
        '/metrics',
      ]) {
        expect((await call(url)).statusCode, url).toBe(401);
      }
      for (const url of ['/', '/assets/app.js', '/openapi.json', '/docs/']) expect((await call(url)).statusCode, url).toBe(200);
      // The document says so: 401 on the API, no security on the public paths.
      const spec = (await call('/openapi.json')).json();
      expect(spec.paths['/api/v1/tables'].get.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      expect(spec.paths['/api/v1/tables'].get.security).toEqual([{ bearer: [] }]);
      expect(spec.paths['/api/v1/tables/gold/dim_clients'].get.security).toEqual([{ bearer: [] }]);
      // Public routes need no token, and say so.
      expect(spec.paths['/health'].get.security).toBeUndefined();
      expect(spec.paths['/health'].get.responses['401']).toBeUndefined();
      const cors = await call('/api/v1/tables', { authorization: 'Bearer s3cret-token', origin: 'https://bi.example.org' });
      expect(cors.headers['access-control-allow-origin']).toBe('https://bi.example.org');
      const statuses = [];
      for (let i = 0; i < 20; i++) statuses.push((await call('/api/v1/tables', { authorization: 'Bearer s3cret-token' })).statusCode);
      expect(statuses).toContain(429);
    } finally {
      await locked.close();
      await secured.close();
    }
    expect((await get('/api/v1/tables', { origin: 'https://bi.example.org' })).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends standard security headers, with a CSP that forbids framing, on pages, the API and the docs', async () => {
    for (const url of ['/', '/api/v1/tables', '/docs/', '/health']) {
      const { headers } = await get(url);
      expect(headers['x-content-type-options'], url).toBe('nosniff');
      expect(headers['referrer-policy'], url).toBe('no-referrer');
      expect(headers['x-frame-options'], url).toBe('SAMEORIGIN');
      const csp = String(headers['content-security-policy']);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).not.toContain('unsafe-eval');
    }
  });
});

describe('examples/online-retail over HTTP', () => {
  it('serves its revenue and RFM tables, filterable, with a dashboard declared in its config', async () => {
    const { ROOT } = await import('./support/helpers.js');
    const { runIngest } = await import('../src/ingest/run.js');
    const project = path.join(tempDir('trib-or-serve-'), 'online-retail');
    copyProjectFiles(path.join(ROOT, 'examples/online-retail'), project);
    const orLake = await Lake.open(await loadConfig(project)); // the shipped 3-day sample
    await runIngest(orLake);
    await runModels(orLake);
    const { app: orApp } = await buildServer(orLake);
    try {
      const call = async (url: string) => (await orApp.inject({ method: 'GET', url })).json();
      const rfm = await call('/api/v1/tables/gold/retail_rfm?segment=Champions&sort=-monetary&limit=5');
      expect(rfm.rows.length).toBeGreaterThan(0);
      expect(rfm.rows.every((r: { segment: string }) => r.segment === 'Champions')).toBe(true);
      const uk = await call('/api/v1/tables/gold/retail_revenue_by_country/United%20Kingdom');
      expect(uk.row).toMatchObject({ country: 'United Kingdom', revenue: expect.any(Number) });
      const bySegment = await call('/api/v1/aggregations/gold/retail_rfm?measure=count(*)&by=segment');
      expect(bySegment.rows.reduce((n: number, r: Record<string, number>) => n + r['count(*)']!, 0)).toBe(
        (await orLake.catalog.getTable('gold.retail_rfm'))!.rowCount,
      );
      expect((await call('/api/v1/dashboard')).pages.map((p: { id: string }) => p.id)).toEqual(['revenue', 'rfm']);
    } finally {
      await orApp.close();
      await orLake.close();
    }
  }, 60_000);
});

describe('hardening', () => {
  it('names unknown parameters of declared endpoints, bounds offsets, and checks values strictly', async () => {
    const cases: [string, string][] = [
      ['/api/v1/clients?contry=FR', 'contry'],
      ['/api/v1/tables/gold/dim_clients?offset=2000000', 'offset'],
      ['/api/v1/tables/gold/dim_clients?id_client=1.5', 'id_client'],
      ['/api/v1/tables/gold/dim_clients?id_client=99999999999999999999', 'id_client'],
      ['/api/v1/tables/gold/fact_ventes?date_achat=2024-02-31', 'date_achat'],
    ];
    for (const [url, parameter] of cases) {
      const r = await get(url);
      expect(r.status, url).toBe(400);
      expect(r.body.parameter, url).toBe(parameter);
    }
  });

  it('keeps pages and docs reachable without a token when auth is on, and rate-limits failed attempts', async () => {
    const config = await loadConfig(dir);
    config.serve = { ...config.serve, auth: { tokens: ['t0ken'] }, rateLimit: { max: 5 } };
    const secured = await Lake.open(config);
    const { app: locked } = await buildServer(secured);
    try {
      const call = (url: string, method: 'GET' | 'OPTIONS' = 'GET') => locked.inject({ method, url });
      expect((await call('/')).statusCode).toBe(200);
      expect((await call('/assets/app.js')).statusCode).toBe(200);
      expect((await call('/openapi.json')).statusCode).toBe(200);
      expect((await call('/health')).json()).toEqual({ status: 'ok' }); // says nothing of the data
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await call('/api/v1/tables')).statusCode);
      expect(statuses).toEqual([401, 401, 429, 429, 429]); // the 3 public requests above count too: 5 per window
    } finally {
      await locked.close();
      await secured.close();
    }
  });

  it('refuses an endpoint on a table that is not exposed, at startup', async () => {
    const config = await loadConfig(dir);
    config.serve = { ...config.serve, endpoints: { secret: { kind: 'list', table: 'silver.clients' } } };
    const other = await Lake.open(config);
    try {
      await expect(buildServer(other)).rejects.toThrow(/serve\.endpoints\.secret\.table: silver\.clients is not exposed/);
      other.config.serve = { ...config.serve, endpoints: { bad: { kind: 'list', table: 'gold.dim_clients', sort: '-totl_ca' } } };
      await expect(buildServer(other)).rejects.toThrow(/serve\.endpoints\.bad\.sort: gold\.dim_clients has no column "totl_ca"/);
    } finally {
      await other.close();
    }
  });
});
