import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import type { CatalogLocation } from '../src/config/types.js';
import { Lake } from '../src/lake/lake.js';
import { pgCatalog, ROOT, tempDir } from './support/helpers.js';

/**
 * Starts the writer and SIGKILLs it: at a random moment (`at: 'random'`), or a few milliseconds after it announced
 * a catalog commit (`at: 'commit'`), which lands the kill inside or around the commit transaction.
 */
function killWriter(dir: string, catalog: CatalogLocation | undefined, at: 'random' | 'commit'): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', path.join(ROOT, 'test/fixtures/crash-writer.ts'), dir, ...(catalog ? [JSON.stringify(catalog)] : [])];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let commits = 0;
    const target = 1 + Math.floor(Math.random() * 4);
    const kill = (ms: number) => setTimeout(() => child.kill('SIGKILL'), ms);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line === 'ready' && at === 'random') kill(150 + Math.floor(Math.random() * 600));
        if (line === 'commit' && at === 'commit' && ++commits === target) kill(Math.floor(Math.random() * 8));
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited on its own: ${stderr}`))));
  });
}

/** Expected rows of the table after `gen` generations: appends add 1000, every third generation overwrites. */
function expectedRows(gen: number): number {
  return gen % 3 === 0 ? 1000 : (gen % 3) * 1000 + (gen >= 3 ? 1000 : 0);
}

describe.each([
  ['embedded', undefined, 20],
  ['PostgreSQL', pgCatalog, 10],
] as const)('a writer killed with SIGKILL mid-commit (%s catalog)', (_name, catalogFactory, kills) => {
  it(`leaves the table readable at its last good snapshot, ${kills} times over`, async () => {
    const dir = tempDir('trib-crash-');
    const catalog = catalogFactory ? catalogFactory() : undefined;
    let lastSnapshot = 0;
    for (let i = 0; i < kills; i++) {
      await killWriter(dir, catalog, i % 2 === 0 ? 'commit' : 'random');
      const config = resolveConfig({}, dir, undefined);
      if (catalog) config.catalog = catalog;
      const lake = await Lake.open(config);
      try {
        const table = await lake.catalog.getTable('bronze.crash');
        if (!table) continue; // killed before the first commit
        expect(table.currentSnapshot).toBeGreaterThanOrEqual(lastSnapshot);
        lastSnapshot = table.currentSnapshot;
        // Every file of the snapshot is there and complete, and the rows are exactly those committed.
        const { rows } = await lake.query('SELECT count(*) AS n, max(gen) AS gen, count(DISTINCT d) AS days FROM bronze.crash');
        const { n, gen, days } = rows[0] as { n: bigint; gen: number; days: bigint };
        expect(Number(n)).toBe(table.rowCount);
        expect(Number(n)).toBe(expectedRows(gen));
        expect(days).toBe(5n);
      } finally {
        await lake.close();
      }
    }
    expect(lastSnapshot).toBeGreaterThan(0);
    // Files of killed writers are orphans: vacuum removes them and the table stays intact.
    const config = resolveConfig({}, dir, undefined);
    if (catalog) config.catalog = catalog;
    const lake = await Lake.open(config);
    try {
      const before = (await lake.query('SELECT count(*) AS n FROM bronze.crash')).rows[0]!.n;
      await lake.vacuum({ orphanMinutes: 0 });
      expect((await lake.query('SELECT count(*) AS n FROM bronze.crash')).rows[0]!.n).toBe(before);
    } finally {
      await lake.close();
    }
  }, 240_000);
});
