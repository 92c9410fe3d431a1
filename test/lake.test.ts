import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAsOf } from '../src/lake/as-of.js';
import { parseTableName } from '../src/lake/table-name.js';
import { pgCatalog } from './support/helpers.js';
import { openTestLake, rows } from './support/project.js';

describe.each([
  ['embedded', undefined],
  ['PostgreSQL', pgCatalog],
] as const)('lake tables (%s catalog)', (_name, catalog) => {
  it('appends, overwrites and travels in time by snapshot id and timestamp', async () => {
    const { lake } = await openTestLake({}, catalog ? { catalog: catalog() } : {});
    await lake.write('silver.t', 'SELECT range AS id FROM range(10)', { mode: 'append' });
    const afterFirst = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await lake.write('silver.t', 'SELECT range AS id FROM range(10, 15)', { mode: 'append' });
    await lake.write('silver.t', 'SELECT 42 AS id, 1 AS extra', { mode: 'overwrite' });
    expect(await rows(lake, 'SELECT count(*) AS n FROM silver.t')).toEqual([{ n: 1 }]);
    expect((await lake.query('SELECT count(*) AS n FROM silver.t', { asOf: { snapshotId: 2 } })).rows[0]!.n).toBe(15n);
    expect((await lake.query('SELECT count(*) AS n FROM silver.t', { asOf: { timestamp: afterFirst } })).rows[0]!.n).toBe(10n);
    const shown = await lake.show('silver.t', { asOf: { snapshotId: 1 }, limit: 3 });
    expect(shown.rows).toHaveLength(3);
    expect(shown.snapshot!.snapshotId).toBe(1);
    await expect(lake.query('SELECT 1 FROM silver.t', { asOf: { snapshotId: 9 } })).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
  });

  it('compacts small files per partition without changing the rows', async () => {
    const { lake } = await openTestLake(
      { tables: { 'bronze.f': { partitionBy: { column: 'd', granularity: 'day' } } } },
      catalog ? { catalog: catalog() } : {},
    );
    for (let i = 0; i < 4; i++)
      await lake.write('bronze.f', `SELECT range + ${i * 100} AS id, DATE '2024-01-01' + (range % 2)::INT AS d FROM range(50)`, { mode: 'append' });
    const before = await rows(lake, 'SELECT d, count(*) AS n, sum(id) AS s FROM bronze.f GROUP BY d ORDER BY d');
    const result = await lake.compact('bronze.f');
    expect(result).toMatchObject({ filesBefore: 8, filesAfter: 2, merged: 8 });
    expect(await rows(lake, 'SELECT d, count(*) AS n, sum(id) AS s FROM bronze.f GROUP BY d ORDER BY d')).toEqual(before);
    const snapshot = await lake.catalog.resolveSnapshot('bronze.f');
    expect(snapshot!.files.map((f) => f.partitionKey).sort()).toEqual(['2024-01-01', '2024-01-02']);
    expect((await lake.history('bronze.f'))[0]!.operation).toBe('compact');
    expect((await lake.compact('bronze.f')).snapshotId).toBeUndefined();
  });

  it('vacuums expired snapshots and orphan files, and keeps what retained snapshots need', async () => {
    const { lake } = await openTestLake({}, catalog ? { catalog: catalog() } : {});
    await lake.write('gold.v', 'SELECT 1 AS id', { mode: 'append' });
    await lake.write('gold.v', 'SELECT 2 AS id', { mode: 'overwrite' });
    await lake.write('gold.v', 'SELECT 3 AS id', { mode: 'append' });
    const orphanDir = path.join(lake.config.lakePath, 'gold/v/data');
    writeFileSync(path.join(orphanDir, 'crashed-writer.parquet'), 'partial');
    const dry = await lake.vacuum({ dryRun: true, snapshotDays: 0, orphanMinutes: 0 });
    expect(dry).toMatchObject({
      dryRun: true,
      orphanFiles: 1,
      deletedFiles: 2,
      tables: [{ table: 'gold.v', expiredSnapshots: 2, keptFrom: 3, deletedFiles: 1 }],
    });
    expect(existsSync(path.join(orphanDir, 'crashed-writer.parquet'))).toBe(true);
    // Young orphans may belong to a writer about to commit: they are kept.
    expect(await lake.vacuum({ snapshotDays: 0, keepLast: 3 })).toMatchObject({ tables: [], orphanFiles: 0 });
    const report = await lake.vacuum({ snapshotDays: 0, orphanMinutes: 0, keepLast: 2 });
    expect(report.tables).toEqual([{ table: 'gold.v', expiredSnapshots: 1, keptFrom: 2, deletedFiles: 1 }]);
    expect(report.orphanFiles).toBe(1);
    expect(await rows(lake, 'SELECT id FROM gold.v ORDER BY id')).toEqual([{ id: 2 }, { id: 3 }]);
    expect((await lake.query('SELECT count(*) AS n FROM gold.v', { asOf: { snapshotId: 2 } })).rows[0]!.n).toBe(1n);
    await expect(lake.query('SELECT 1 FROM gold.v', { asOf: { snapshotId: 1 } })).rejects.toThrow(/expired by vacuum/);
  });
});

describe('opening a lake', () => {
  it('names the engine setting DuckDB refuses', async () => {
    const { resolveConfig } = await import('../src/config/load.js');
    const { Lake } = await import('../src/lake/lake.js');
    const { tempDir } = await import('./support/helpers.js');
    const config = resolveConfig({ engine: { memoryLimit: 'lots' } }, tempDir(), undefined);
    await expect(Lake.open(config)).rejects.toThrow(/^engine: DuckDB refused the settings/);
  });
});

describe('lake SQL', () => {
  it('is read-only and names what went wrong', async () => {
    const { lake } = await openTestLake();
    await lake.write('gold.k', 'SELECT 1 AS a', { mode: 'append' });
    for (const sql of [
      'DROP VIEW gold.k',
      'INSERT INTO gold.k VALUES (2)',
      "COPY gold.k TO '/tmp/x.csv'",
      'CREATE TABLE z AS SELECT 1',
      'SELECT 1; DELETE FROM gold.k',
    ]) {
      await expect(lake.query(sql), sql).rejects.toMatchObject({ code: 'SQL_READ_ONLY' });
    }
    await expect(lake.query('SELEC 1')).rejects.toMatchObject({ code: 'SQL_ERROR', message: expect.stringMatching(/syntax error/) });
    await expect(lake.query('SELECT * FROM gold.nope')).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    expect(await rows(lake, 'SELECT a FROM "gold"."k"')).toEqual([{ a: 1 }]);
    expect((await lake.query('DESCRIBE gold.k')).rows[0]).toMatchObject({ column_name: 'a' });
  });

  it('refuses a partition column the table lacks, and leaves no file behind', async () => {
    const { lake } = await openTestLake({ tables: { 'bronze.p': { partitionBy: { column: 'day' } } } });
    await expect(lake.write('bronze.p', 'SELECT 1 AS a', { mode: 'append' })).rejects.toThrow(/partitionBy: column "day" is not in the table/);
    expect(await lake.catalog.getTable('bronze.p')).toBeUndefined();
    // No data file, and no in-flight marker, is left by the refused write.
    const left: string[] = [];
    for await (const o of lake.storage.list('')) if (!o.key.startsWith('_catalog/') && !o.key.startsWith('_tmp/')) left.push(o.key);
    expect(left).toEqual([]);
  });
});

describe('names and points in time', () => {
  it('parses table names and --as-of values', () => {
    expect(parseTableName('bronze.sales')).toMatchObject({ layer: 'bronze', table: 'sales' });
    expect(() => parseTableName('sales')).toThrow(/layer\.table/);
    expect(() => parseTableName('a.b.c')).toThrow(/layer\.table/);
    expect(parseAsOf('12')).toEqual({ snapshotId: 12 });
    expect(parseAsOf('2026-01-02T03:04:05Z')).toEqual({ timestamp: new Date('2026-01-02T03:04:05Z') });
    expect(() => parseAsOf('yesterday')).toThrow(/--as-of/);
  });
});
