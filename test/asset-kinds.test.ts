import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteLiteral } from '../src/engine/sql.js';
import { AssetGraph } from '../src/orchestration/assets.js';
import { runBuild } from '../src/orchestration/build.js';
import { registerAssetKind, unregisterAssetKind, type AssetKindHandler } from '../src/orchestration/kinds/index.js';
import { loadGraph } from '../src/models/run.js';
import { openTestLake } from './support/project.js';
import { tempDir } from './support/helpers.js';

// The recipe of docs/architecture.md, "Adding an asset kind": a handler that declares its assets and executes one,
// registered with one line. This one exports tables to CSV files (what a `publish`/`export` kind would do).

const outDir = tempDir('trib-export-');
const exportAssets: AssetKindHandler = {
  kind: 'export',
  declare: ({ models }) => models.order.filter((m) => m.startsWith('gold.')).map((table) => ({ key: `export:${table}`, writes: [], reads: [table] })),
  async execute(lake, table, { logger }) {
    await lake.mount([table]);
    const file = path.join(outDir, `${table}.csv`);
    await lake.engine.run(`COPY (SELECT * FROM ${table} ORDER BY ALL) TO ${quoteLiteral(file)} (HEADER, DELIMITER ',')`);
    logger.info(`exported ${table} to ${file}`);
    return { file };
  },
  describe: (s) => `exported to ${String(s.file)}`,
};

beforeAll(() => registerAssetKind(exportAssets));
afterAll(() => unregisterAssetKind('export'));

describe('an asset kind added outside the tree (the recipe)', () => {
  it('declares its assets in the graph, after what they read, and `build` executes them in order', async () => {
    const { lake, write } = await openTestLake({ sources: { sales: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales' } } });
    write('in/a.csv', 'id,amount\n1,10\n2,20\n3,5\n');
    write('models/gold/total.sql', 'SELECT count(*) AS n, sum(amount) AS total FROM bronze.sales');
    const graph = new AssetGraph(lake.config, await loadGraph(lake));
    expect(graph.get('export:gold.total')).toEqual({ key: 'export:gold.total', kind: 'export', writes: [], upstream: ['gold.total'] });
    expect(graph.select(['export:*'], 'test')).toEqual(['export:gold.total']);

    const report = await runBuild(lake, { select: ['+export:gold.total'] });
    expect(report.status, JSON.stringify(report.assets)).toBe('success');
    expect(report.assets.map((a) => [a.asset, a.kind, a.status])).toEqual([
      ['source:sales', 'source', 'success'],
      ['gold.total', 'model', 'success'],
      ['export:gold.total', 'export', 'success'],
    ]);
    expect(report.assets.at(-1)!.detail).toBe(`exported to ${path.join(outDir, 'gold.total.csv')}`);
    expect(readFileSync(path.join(outDir, 'gold.total.csv'), 'utf8')).toBe('n,total\n3,35.0\n');
  });
});
