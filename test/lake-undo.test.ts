import { describe, expect, it } from 'vitest';
import { runIngest } from '../src/ingest/run.js';
import { cli } from './support/helpers.js';
import { openTestLake, rows } from './support/project.js';

describe('undoing mistakes in a table', () => {
  it('rollback: a new snapshot with the rows of an earlier one; history kept; later files ingested again', async () => {
    const { lake, write, dir } = await openTestLake({ sources: { s: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales' } } });
    write('in/a.csv', 'id\n1\n2\n');
    await runIngest(lake);
    write('in/b.csv', 'id\n3\n');
    write('in/oops.csv', 'id\n666\n');
    await runIngest(lake);
    expect((await lake.catalog.getTable('bronze.sales'))!.currentSnapshot).toBe(2);
    const result = await lake.rollback('bronze.sales', 1);
    expect(result).toEqual({ snapshotId: 3, rowCount: 2, forgotten: 2 });
    expect(await rows(lake, 'SELECT id FROM bronze.sales ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    // Time travel still sees the mistake.
    expect((await lake.query('SELECT count(*) AS n FROM bronze.sales', { asOf: { snapshotId: 2 } })).rows[0]!.n).toBe(4n);
    expect((await lake.history('bronze.sales')).map((h) => h.operation)).toEqual(['rollback', 'append', 'append']);
    // The bad file removed, the next run takes the good one again.
    const { rmSync } = await import('node:fs');
    rmSync(`${dir}/in/oops.csv`);
    expect((await runIngest(lake)).sources[0]!.ingested.map((f) => f.path)).toEqual(['in/b.csv']);
    expect(await rows(lake, 'SELECT id FROM bronze.sales ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    await expect(lake.rollback('bronze.sales', 9)).rejects.toThrow('bronze.sales is at snapshot 4; --to must be an earlier snapshot (1–3)');
  });

  it('drop: asks for confirmation, then removes the table, its files and its ingestion records', async () => {
    const { write, dir } = await openTestLake();
    write('tributary.config.ts', `export default { sources: { s: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales' } } };\n`);
    write('in/a.csv', 'id\n1\n');
    expect((await cli(['ingest', '--project', dir])).code).toBe(0);
    const refused = await cli(['lake', 'drop', 'bronze.sales', '--project', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/lake drop: this deletes bronze\.sales \(1 rows, 1 snapshot\(s\)\) and every file of it \(pass --yes to confirm\)/);
    const dropped = await cli(['lake', 'drop', 'bronze.sales', '--yes', '--project', dir]);
    expect(dropped.stdout).toMatch(/dropped bronze\.sales: 1 snapshot\(s\), 1 file\(s\) deleted/);
    expect(JSON.parse((await cli(['lake', 'tables', '--json', '--project', dir])).stdout)).toEqual([]);
    // The source ingests its file anew.
    expect(JSON.parse((await cli(['ingest', '--json', '--project', dir])).stdout).sources[0]).toMatchObject({ rows: 1, unchanged: 0 });
    const rolled = await cli(['lake', 'rollback', 'bronze.sales', '--to', '1', '--project', dir]);
    expect(rolled.stderr).toMatch(/bronze\.sales is at snapshot 1; --to must be an earlier snapshot/);
  });
});
