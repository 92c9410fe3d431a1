import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { runBuild } from '../src/orchestration/build.js';
import { buildServer } from '../src/serve/server.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
import { PG_URL, ROOT, run, tempDir } from './support/helpers.js';
import { startPrivatePostgres } from './support/private-postgres.js';

// examples/northwind (seed 001's batch half) on the real Northwind database, loaded by the example's own loader into
// a database of this test's own on the machine's PostgreSQL. Every gold figure is recomputed by PostgreSQL itself
// from the source tables, with the same rules, and must be equal — before and after new orders and a changed customer.
const database = `northwind_t${process.pid}`;
const DB_URL = PG_URL.replace(/\/[^/]*$/, `/${database}`);
const admin = new pg.Client({ connectionString: PG_URL });
let source: pg.Client;
let lake: Lake;

beforeAll(async () => {
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  const loaded = await run(process.execPath, [path.join(ROOT, 'examples/northwind/load.mjs'), DB_URL]);
  expect(loaded.code, loaded.stderr).toBe(0);
  expect(loaded.stdout).toContain(`loaded Northwind into ${database}: 830 orders, 2155 order lines`);
  source = new pg.Client({ connectionString: DB_URL });
  await source.connect();
  const dir = path.join(tempDir('trib-nw-'), 'northwind');
  copyProjectFiles(path.join(ROOT, 'examples/northwind'), dir);
  process.env.NORTHWIND_DB = DB_URL;
  try {
    lake = await Lake.open(await loadConfig(dir, { required: true }));
  } finally {
    delete process.env.NORTHWIND_DB;
  }
}, 120_000);
afterAll(async () => {
  await lake?.close();
  await source?.end();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.end();
});

// The rules, on PostgreSQL: prices and discounts as their exact 2-decimal values; UK and USA standardised.
const SALES = `
  WITH sales AS (
    SELECT o.order_id, o.customer_id, o.order_date,
           CASE trim(c.country) WHEN 'UK' THEN 'United Kingdom' WHEN 'USA' THEN 'United States' ELSE trim(c.country) END AS country,
           trim(cat.category_name) AS category_name, d.quantity,
           round(d.unit_price::numeric, 2) * d.quantity * (1 - round(d.discount::numeric, 2)) AS line_total
      FROM orders o JOIN order_details d ON d.order_id = o.order_id JOIN products p ON p.product_id = d.product_id
      LEFT JOIN categories cat ON cat.category_id = p.category_id JOIN customers c ON c.customer_id = o.customer_id)`;
const PG_GOLD = {
  revenue: `${SALES} SELECT round(sum(line_total), 2)::text AS revenue, count(DISTINCT order_id)::int AS orders, count(*)::int AS lines, count(DISTINCT customer_id)::int AS customers FROM sales`,
  top: `${SALES} SELECT country, round(sum(line_total), 2)::text AS revenue, count(DISTINCT order_id)::int AS orders FROM sales GROUP BY country ORDER BY sum(line_total) DESC, country LIMIT 3`,
  categories: `${SALES} SELECT category_name, round(sum(line_total), 2)::text AS revenue, sum(quantity)::int AS quantity FROM sales GROUP BY category_name ORDER BY category_name`,
  rfm: `${SALES}, c AS (SELECT customer_id, max(order_date) AS last, count(DISTINCT order_id) AS f, sum(line_total) AS m FROM sales GROUP BY customer_id),
        ref AS (SELECT max(order_date) + 1 AS d FROM sales)
        , s AS (SELECT customer_id, (ref.d - last)::int AS recency_days, f::int AS frequency, round(m, 2) AS m,
               ntile(5) OVER (ORDER BY ref.d - last DESC, customer_id COLLATE "C")::int AS r_score,
               ntile(5) OVER (ORDER BY f, customer_id COLLATE "C")::int AS f_score,
               ntile(5) OVER (ORDER BY round(m, 2), customer_id COLLATE "C")::int AS m_score
          FROM c CROSS JOIN ref)
        SELECT customer_id, recency_days, frequency, m::text AS monetary, r_score, f_score, m_score,
               CASE WHEN r_score >= 4 AND f_score >= 4 THEN 'Champions' WHEN r_score >= 3 AND f_score >= 4 THEN 'Loyal'
                    WHEN r_score >= 4 AND f_score >= 2 THEN 'Potential loyalist' WHEN r_score >= 4 THEN 'New customers'
                    WHEN r_score <= 2 AND f_score >= 3 THEN 'At risk' WHEN r_score = 1 THEN 'Lost' WHEN r_score = 2 THEN 'Hibernating'
                    ELSE 'Need attention' END AS segment
          FROM s ORDER BY customer_id COLLATE "C"`,
};
const LAKE_GOLD = {
  revenue:
    'SELECT CAST(revenue AS VARCHAR) AS revenue, CAST(orders AS INTEGER) AS orders, CAST(lines AS INTEGER) AS lines, CAST(customers AS INTEGER) AS customers FROM gold.kpi_revenue',
  top: 'SELECT country, CAST(revenue AS VARCHAR) AS revenue, CAST(orders AS INTEGER) AS orders FROM gold.kpi_top_countries ORDER BY rank',
  categories:
    'SELECT category_name, CAST(revenue AS VARCHAR) AS revenue, CAST(quantity AS INTEGER) AS quantity FROM gold.kpi_sales_by_category ORDER BY category_name',
  rfm: 'SELECT customer_id, CAST(recency_days AS INTEGER) AS recency_days, CAST(frequency AS INTEGER) AS frequency, CAST(monetary AS VARCHAR) AS monetary, CAST(r_score AS INTEGER) AS r_score, CAST(f_score AS INTEGER) AS f_score, CAST(m_score AS INTEGER) AS m_score, segment FROM gold.rfm ORDER BY customer_id',
};

async function expectGoldEqualsPostgres(on = source, into = lake): Promise<void> {
  for (const [name, sql] of Object.entries(PG_GOLD)) {
    const expected = (await on.query(sql)).rows;
    const actual = (await into.query(LAKE_GOLD[name as keyof typeof LAKE_GOLD])).rows;
    expect(actual, name).toEqual(expected);
  }
}

describe('examples/northwind on the real Northwind database', () => {
  it('lands the six tables in bronze, builds silver and gold, and every gold figure equals PostgreSQL’s own answer', { timeout: 180_000 }, async () => {
    const report = await runBuild(lake);
    expect(report.status, JSON.stringify(report.assets.filter((a) => a.status !== 'success'))).toBe('success');
    const counts = (await lake.query('SELECT (SELECT count(*) FROM bronze.orders) AS o, (SELECT count(*) FROM bronze.order_details) AS d')).rows[0]!;
    expect([Number(counts.o), Number(counts.d)]).toEqual([830, 2155]);
    // The seed's technical columns, under our names: _ingested_at (its _ingestion_timestamp) and _source.
    expect((await lake.query('SELECT DISTINCT _source FROM bronze.customers')).rows).toEqual([{ _source: 'customers' }]);
    expect((await lake.query('SELECT typeof(line_total) AS t FROM silver.sales_master LIMIT 1')).rows[0]).toEqual({ t: 'DECIMAL(18,4)' });
    await expectGoldEqualsPostgres();
    expect((await lake.query('SELECT CAST(revenue AS VARCHAR) AS r FROM gold.kpi_revenue')).rows[0]).toEqual({ r: '1265793.04' });
  });

  it('serves its gold tables and the dashboard pages of seed 001 (KPI, RFM)', async () => {
    const { app } = await buildServer(lake);
    try {
      const top = (await app.inject('/api/v1/tables/gold/kpi_top_countries?sort=rank')).json() as { rows: { country: string; rank: number }[] };
      expect(top.rows.map((r) => r.country)).toEqual((await source.query(PG_GOLD.top)).rows.map((r) => r.country));
      const dashboard = (await app.inject('/api/v1/dashboard')).json() as { locale: string; pages: { id: string; charts: { source: string }[] }[] };
      expect(dashboard).toMatchObject({ locale: 'fr' });
      expect(dashboard.pages.map((p) => p.id)).toEqual(['kpi', 'rfm']);
      // Every chart's source answers with rows.
      for (const chart of dashboard.pages.flatMap((p) => p.charts)) {
        const answer = await app.inject(`/api/v1${chart.source}`);
        expect(answer.statusCode, chart.source).toBe(200);
        expect((answer.json() as { rows: unknown[] }).rows.length, chart.source).toBeGreaterThan(0);
      }
    } finally {
      await app.close();
    }
  });

  it('after new orders and a customer who moved, runs again incrementally and gold equals PostgreSQL’s answer again', { timeout: 180_000 }, async () => {
    await source.query(
      `INSERT INTO orders (order_id, customer_id, employee_id, order_date) VALUES (11078, 'ALFKI', 1, '1998-05-07'), (11079, 'BONAP', 2, '1998-05-08')`,
    );
    await source.query(`INSERT INTO order_details VALUES (11078, 1, 18.0, 10, 0), (11078, 2, 19.0, 5, 0.1), (11079, 3, 10.0, 100, 0.05)`);
    await source.query(`UPDATE customers SET country = 'UK', city = 'London' WHERE customer_id = 'ALFKI'`);
    const report = await runBuild(lake);
    expect(report.status).toBe('success');
    // Only the new orders and lines were read; the customers were merged on their key.
    const sources = Object.fromEntries(report.assets.filter((a) => a.asset.startsWith('source:')).map((a) => [a.asset, a.detail]));
    expect(sources['source:orders']).toMatch(/^1 batch\(s\) ingested/);
    expect(Number((await lake.query('SELECT count(*) AS n FROM bronze.orders')).rows[0]!.n)).toBe(832);
    expect((await lake.query("SELECT country FROM bronze.customers WHERE customer_id = 'ALFKI'")).rows).toEqual([{ country: 'UK' }]);
    await expectGoldEqualsPostgres();
  });
});

describe('examples/northwind in CDC mode (NORTHWIND_CDC=1), on a server with logical WAL', () => {
  it('follows orders, lines and customers through the WAL: gold equals PostgreSQL’s answer, before and after changes', { timeout: 240_000 }, async () => {
    const server = await startPrivatePostgres({ wal_level: 'logical' });
    const url = server.url.replace(/\/postgres$/, '/northwind');
    const loaded = await run(process.execPath, [path.join(ROOT, 'examples/northwind/load.mjs'), url]);
    expect(loaded.code, loaded.stderr).toBe(0);
    const pgc = new pg.Client({ connectionString: url });
    await pgc.connect();
    const dir = path.join(tempDir('trib-nwcdc-'), 'northwind');
    copyProjectFiles(path.join(ROOT, 'examples/northwind'), dir);
    Object.assign(process.env, { NORTHWIND_DB: url, NORTHWIND_CDC: '1' });
    let cdcLake: Lake;
    try {
      cdcLake = await Lake.open(await loadConfig(dir, { required: true }));
    } finally {
      delete process.env.NORTHWIND_DB;
      delete process.env.NORTHWIND_CDC;
    }
    try {
      expect(cdcLake.config.sources.orders).toMatchObject({ disposition: 'cdc', into: 'bronze.orders_changes', current: 'bronze.orders' });
      expect((await runBuild(cdcLake)).status).toBe('success');
      await expectGoldEqualsPostgres(pgc, cdcLake);
      await pgc.query(`INSERT INTO orders (order_id, customer_id, employee_id, order_date) VALUES (11078, 'ALFKI', 1, '1998-05-07')`);
      await pgc.query(`INSERT INTO order_details VALUES (11078, 1, 18.0, 10, 0), (11078, 2, 19.0, 5, 0.1)`);
      await pgc.query(`UPDATE customers SET country = 'UK' WHERE customer_id = 'ALFKI'`);
      await pgc.query(`DELETE FROM order_details WHERE order_id = 10248 AND product_id = 11`);
      expect((await runBuild(cdcLake)).status).toBe('success');
      // The changes landed as change rows; the mirrors and gold equal PostgreSQL again.
      expect(
        (await cdcLake.query(`SELECT _op, count(*) AS n FROM bronze.order_details_changes WHERE _op <> 'snapshot' GROUP BY _op ORDER BY _op`)).rows,
      ).toEqual([
        { _op: 'delete', n: 1n },
        { _op: 'insert', n: 2n },
      ]);
      await expectGoldEqualsPostgres(pgc, cdcLake);
    } finally {
      await cdcLake.close();
      await pgc.end();
    }
  });
});
