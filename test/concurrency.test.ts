import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import type { CatalogLocation } from '../src/config/types.js';
import { Lake } from '../src/lake/lake.js';
import { pgCatalog, runTs, tempDir } from './support/helpers.js';

describe.each([
  ['embedded', (dir: string): CatalogLocation => ({ kind: 'embedded', path: path.join(dir, 'lake/_catalog/catalog.duckdb') })],
  ['PostgreSQL', () => pgCatalog()],
] as const)('two processes ingesting overlapping files at once (%s catalog)', (_name, makeCatalog) => {
  it('ingest every file exactly once, and both succeed', async () => {
    const dir = tempDir('trib-race-');
    const catalog = makeCatalog(dir);
    mkdirSync(path.join(dir, 'in'));
    for (let i = 0; i < 30; i++) {
      const rows = Array.from({ length: 200 }, (_, r) => `${i},${r},${(i * 1000 + r) % 97}`);
      writeFileSync(path.join(dir, 'in', `f${String(i).padStart(2, '0')}.csv`), `file,row,v\n${rows.join('\n')}\n`);
    }
    // A takes f00–f19, B takes f10–f29: f10–f19 are wanted by both.
    const [a, b] = await Promise.all([
      runTs('test/fixtures/ingest-once.ts', [dir, JSON.stringify(catalog), 'in/f0*.csv', 'in/f1*.csv']),
      runTs('test/fixtures/ingest-once.ts', [dir, JSON.stringify(catalog), 'in/f1*.csv', 'in/f2*.csv']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ra = JSON.parse(a.stdout);
    const rb = JSON.parse(b.stdout);
    expect(ra.ingested.length + rb.ingested.length).toBe(30);
    expect(ra.ingested.length + ra.unchanged).toBe(20);
    expect(rb.ingested.length + rb.unchanged).toBe(20);

    const config = resolveConfig({}, dir, undefined);
    config.catalog = catalog;
    const lake = await Lake.open(config);
    try {
      const { rows } = await lake.query('SELECT count(*) AS n, count(DISTINCT file) AS files, count(DISTINCT _file_hash) AS hashes FROM bronze.shared');
      expect(rows[0]).toEqual({ n: 6000n, files: 30n, hashes: 30n });
      expect(await lake.catalog.ingestion.files('shared')).toHaveLength(30);
      // The loser's discarded files left nothing behind that vacuum would not remove.
      const report = await lake.vacuum({ orphanMinutes: 0, dryRun: true });
      expect(report.orphanFiles).toBe(0);
    } finally {
      await lake.close();
    }
  });
});
