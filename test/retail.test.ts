import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/demo.js';
import { generateRetailData } from '../src/demo/retail-data.js';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { cli, tempDir } from './support/helpers.js';

describe('retail data generator', () => {
  it('is deterministic for a seed and injects the announced dirt', () => {
    const a = tempDir();
    const b = tempDir();
    const c = tempDir();
    const ma = generateRetailData(a, { seed: 7, rows: 2000 });
    generateRetailData(b, { seed: 7, rows: 2000 });
    generateRetailData(c, { seed: 8, rows: 2000 });
    const content = (dir: string) =>
      readdirSync(dir)
        .sort()
        .map((f) => readFileSync(path.join(dir, f), 'utf8'))
        .join('\n');
    expect(content(a)).toBe(content(b));
    expect(content(a)).not.toBe(content(c));
    expect(ma.files).toContain('achats_export_manuel.csv');
    for (const n of [ma.achats.duplicates, ma.achats.missing, ma.achats.wrongType, ma.achats.outOfRange, ma.achats.unparseableDate, ma.achats.futureDate])
      expect(n).toBeGreaterThan(0);
  });
});

describe('examples/retail end to end (tributary demo)', () => {
  it('lands every injected defect where it belongs and loses no row', async () => {
    const dir = path.join(tempDir('trib-retail-'), 'demo');
    const report = await runDemo(dir, { seed: 3, rows: 3000 });
    const m = report.data;
    expect(report.models.status).toBe('success');
    expect(report.models.models.every((x) => x.status === 'success')).toBe(true);

    const lake = await Lake.open(await loadConfig(dir));
    const n = async (sql: string) => Number((await lake.query(sql)).rows[0]!.n);
    const byReason = async (table: string) =>
      Object.fromEntries((await lake.query(`SELECT reject_reason AS r, count(*) AS n FROM ${table} GROUP BY ALL`)).rows.map((r) => [r.r, Number(r.n)]));
    try {
      // Ingestion: the malformed file is quarantined whole; wrong types go to the rejects tables.
      expect(report.quarantined).toEqual([{ path: 'data/achats_export_manuel.csv', reason: expect.stringMatching(/missing required columns/) }]);
      expect((await n('SELECT count(*) AS n FROM bronze.achats')) + (await n('SELECT count(*) AS n FROM bronze.achats_rejects'))).toBe(m.achats.lines);
      expect(await n('SELECT count(DISTINCT (_source_file, line)) AS n FROM bronze.achats_rejects')).toBe(m.achats.wrongType);
      expect((await n('SELECT count(*) AS n FROM bronze.clients')) + (await n('SELECT count(*) AS n FROM bronze.clients_rejects'))).toBe(m.clients.lines);
      expect(await n('SELECT count(*) AS n FROM bronze.clients_rejects')).toBe(m.clients.wrongType);

      // Silver: every dropped row is kept with its reason.
      expect((await n('SELECT count(*) AS n FROM silver.achats')) + (await n('SELECT count(*) AS n FROM silver.achats_rejected'))).toBe(
        await n('SELECT count(*) AS n FROM bronze.achats'),
      );
      expect(await byReason('silver.achats_rejected')).toEqual({
        duplicate: m.achats.duplicates,
        missing_values: m.achats.missing,
        unparseable_date: m.achats.unparseableDate,
        future_date: m.achats.futureDate,
        amount_out_of_range: m.achats.outOfRange,
      });
      expect((await n('SELECT count(*) AS n FROM silver.clients')) + (await n('SELECT count(*) AS n FROM silver.clients_rejected'))).toBe(
        await n('SELECT count(*) AS n FROM bronze.clients'),
      );
      expect(await byReason('silver.clients_rejected')).toEqual({
        duplicate: m.clients.duplicates,
        missing_values: m.clients.missing,
        invalid_email: m.clients.invalidEmail,
      });
      // Dates in DD/MM/YYYY were normalised, not dropped.
      expect(await n(`SELECT count(*) AS n FROM silver.achats_validated WHERE date_source LIKE '%/%' AND reject_reason IS NULL`)).toBeGreaterThan(0);

      // Checks: only the two warnings about known dirt fail.
      expect(report.checksNotPassing.map((c) => [c.table, c.check, c.severity])).toEqual([
        ['bronze.clients', 'source clients are unique', 'warn'],
        ['gold.fact_ventes', 'purchases of known clients', 'warn'],
      ]);
      expect(report.checksNotPassing[1]!.failingRows).toBeGreaterThanOrEqual(m.achats.unknownClient);

      // Gold agrees with itself and with silver.
      const revenue = await n('SELECT round(sum(montant), 2) AS n FROM silver.achats');
      for (const t of ['gold.kpi_ca_par_jour', 'gold.kpi_ca_par_mois', 'gold.kpi_ca_par_pays'])
        expect(await n(`SELECT round(sum(ca), 2) AS n FROM ${t}`)).toBe(revenue);
      expect(await n('SELECT round(sum(ca_total), 2) AS n FROM gold.dim_produits')).toBe(revenue);
      expect(
        await n(
          `SELECT count(*) AS n FROM gold.dim_clients WHERE segment <> CASE WHEN total_ca >= 5000 THEN 'Platinum' WHEN total_ca >= 2000 THEN 'Gold' WHEN total_ca >= 500 THEN 'Silver' ELSE 'Bronze' END`,
        ),
      ).toBe(0);
      expect(await n('SELECT count(*) AS n FROM gold.kpi_top_clients')).toBe(100);
      expect(await n('SELECT count(*) AS n FROM gold.kpi_stats_distribution WHERE NOT (min <= q1 AND q1 <= mediane AND mediane <= q3 AND q3 <= max)')).toBe(0);
      expect(await n('SELECT count(*) AS n FROM gold.dim_temps')).toBe(await n('SELECT count(DISTINCT date_achat) AS n FROM silver.achats'));
      expect(report.kpis.topCountries).toHaveLength(3);
    } finally {
      await lake.close();
    }
  }, 120_000);

  it('runs from the CLI, and refuses to overwrite a previous demo without --force', async () => {
    const dir = path.join(tempDir('trib-democli-'), 'd');
    const first = await cli(['demo', dir, '--rows', '600', '--seed', '5']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Built 16 of 16 models/);
    expect(first.stdout).toMatch(/Quarantined files\n {2}data\/achats_export_manuel\.csv/);
    const again = await cli(['demo', dir]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/is not empty .*--force/);
    const forced = await cli(['demo', dir, '--rows', '600', '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).models.status).toBe('success');
  }, 120_000);
});
