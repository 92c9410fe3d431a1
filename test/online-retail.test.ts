import { readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';
import { runModels } from '../src/models/run.js';
import { ROOT, tempDir } from './support/helpers.js';
import { onlineRetailByDay } from './support/online-retail.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

// The 305 daily files, split from the archive shipped in test/data (nothing outside the repo is read).
const BY_DAY = await onlineRetailByDay();

/** A copy of examples/online-retail reading `dataDir`, opened as a lake. */
async function exampleLake(dataDir: string): Promise<Lake> {
  const dir = path.join(tempDir('trib-or-'), 'project');
  copyProjectFiles(path.join(ROOT, 'examples/online-retail'), dir);
  process.env.RETAIL_DATA_DIR = dataDir;
  try {
    return await Lake.open(await loadConfig(dir));
  } finally {
    delete process.env.RETAIL_DATA_DIR;
  }
}

async function table(lake: Lake, sql: string): Promise<Record<string, unknown>[]> {
  return (await lake.query(sql)).rows;
}

const GOLD = {
  country: 'SELECT country, round(revenue, 4) AS revenue, invoices, customers FROM gold.retail_revenue_by_country ORDER BY country',
  month: 'SELECT month, round(revenue, 4) AS revenue, invoices FROM gold.retail_revenue_by_month ORDER BY month',
  rfm: 'SELECT customer_id, recency_days, frequency, round(monetary, 4) AS monetary, r_score, f_score, m_score, segment FROM gold.retail_rfm ORDER BY customer_id',
};

describe('examples/online-retail on the real UCI Online Retail files', () => {
  it('matches the rules recomputed independently with plain DuckDB from the raw CSV text', async () => {
    const lake = await exampleLake(BY_DAY);
    try {
      await runIngest(lake);
      const report = await runModels(lake);
      expect(report.status, JSON.stringify(report.models.map((m) => m.error ?? m.checks.filter((c) => c.status !== 'pass')))).toBe('success');

      // The floor: every rule written again from the text, on the raw files read as text.
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      await db.run(`CREATE TABLE raw AS SELECT * FROM read_csv('${BY_DAY}/*.csv', header = true, all_varchar = true)`);
      await db.run(`CREATE TABLE sales AS
        SELECT *, CAST(Quantity AS BIGINT) * CAST(UnitPrice AS DOUBLE) AS line_total,
               CAST(CAST(CustomerID AS DOUBLE) AS BIGINT) AS customer_id, CAST(InvoiceDate AS TIMESTAMP) AS ts
        FROM (SELECT DISTINCT InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country FROM raw)
        WHERE InvoiceNo NOT LIKE 'C%' AND CAST(Quantity AS BIGINT) > 0 AND CAST(UnitPrice AS DOUBLE) > 0`);
      const expected = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJS();

      const [{ n }] = (await expected('SELECT count(*) AS n FROM sales')) as [{ n: bigint }];
      expect((await table(lake, 'SELECT count(*) AS n FROM silver.retail_sales'))[0]!.n).toBe(n);
      expect(await table(lake, GOLD.country)).toEqual(
        await expected(
          `SELECT Country AS country, round(sum(line_total), 4) AS revenue, count(DISTINCT InvoiceNo) AS invoices, count(DISTINCT customer_id) AS customers FROM sales GROUP BY Country ORDER BY country`,
        ),
      );
      expect(await table(lake, GOLD.month)).toEqual(
        await expected(
          `SELECT CAST(date_trunc('month', ts) AS DATE) AS month, round(sum(line_total), 4) AS revenue, count(DISTINCT InvoiceNo) AS invoices FROM sales GROUP BY 1 ORDER BY 1`,
        ),
      );
      const rfm = await expected(`
        WITH per AS (
          SELECT customer_id, (SELECT CAST(max(ts) AS DATE) + 1 FROM sales) - max(CAST(ts AS DATE)) AS recency_days,
                 count(DISTINCT InvoiceNo) AS frequency, sum(line_total) AS monetary
          FROM sales WHERE customer_id IS NOT NULL GROUP BY customer_id)
        SELECT customer_id, recency_days, frequency, round(monetary, 4) AS monetary,
               ntile(5) OVER (ORDER BY recency_days DESC, customer_id) AS r_score,
               ntile(5) OVER (ORDER BY frequency, customer_id) AS f_score,
               ntile(5) OVER (ORDER BY monetary, customer_id) AS m_score
        FROM per ORDER BY customer_id`);
      const ours = await table(lake, GOLD.rfm);
      expect(ours.map(({ segment: _s, ...rest }) => rest)).toEqual(rfm);
      expect(ours).toHaveLength(4338);
      // Segments follow the documented rules.
      const segment = (r: number, f: number) =>
        r >= 4 && f >= 4
          ? 'Champions'
          : r >= 3 && f >= 4
            ? 'Loyal'
            : r >= 4 && f >= 2
              ? 'Potential loyalist'
              : r >= 4
                ? 'New customers'
                : r <= 2 && f >= 3
                  ? 'At risk'
                  : r === 1
                    ? 'Lost'
                    : r === 2
                      ? 'Hibernating'
                      : 'Need attention';
      for (const row of ours) expect(row.segment).toBe(segment(Number(row.r_score), Number(row.f_score)));
    } finally {
      await lake.close();
    }
  }, 120_000);

  it('gives the same gold tables when the daily files arrive one at a time as when they arrive at once', async () => {
    const days = readdirSync(BY_DAY).sort().slice(0, 12);
    const dripDir = tempDir('trib-drip-');
    const allDir = tempDir('trib-all-');
    for (const day of days) symlinkSync(path.join(BY_DAY, day), path.join(allDir, day));
    const drip = await exampleLake(dripDir);
    const once = await exampleLake(allDir);
    try {
      for (const day of days) {
        symlinkSync(path.join(BY_DAY, day), path.join(dripDir, day));
        await runIngest(drip);
        const report = await runModels(drip);
        expect(report.status).toBe('success');
      }
      // After the first day, silver is merged incrementally from each day's new file.
      const modes = (await drip.catalog.runLog.modelRuns((await drip.catalog.runs.list({ limit: 1 }))[0]!.runId)).find(
        (m) => m.model === 'silver.retail_sales',
      );
      expect(modes).toMatchObject({ mode: 'incremental' });
      await runIngest(once);
      await runModels(once);
      for (const sql of Object.values(GOLD)) expect(await table(drip, sql)).toEqual(await table(once, sql));
      expect(await table(drip, 'SELECT count(*) AS n FROM silver.retail_sales')).toEqual(await table(once, 'SELECT count(*) AS n FROM silver.retail_sales'));
    } finally {
      await drip.close();
      await once.close();
    }
  }, 120_000);
});
