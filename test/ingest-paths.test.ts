import { describe, expect, it } from 'vitest';
import type { FileSourceConfig } from '../src/config/types.js';
import { retryQuarantined, runIngest, runIngestFiles } from '../src/ingest/run.js';
import { runModels } from '../src/models/run.js';
import { openTestLake, rows } from './support/project.js';

const src = (glob: string, into: string, extra: Partial<FileSourceConfig> = {}): FileSourceConfig => ({ kind: 'files', glob, into, ...extra });

// DuckDB expands `*`, `?` and `[…]` in every path it reads: a file's name must never be read as a pattern.
describe('file names with glob characters are read as exactly that file', () => {
  const names = ['sales[1].csv', 'sales1.csv', '*.csv', 'q?.csv', 'qx.csv', '{a,b}.csv', 'a.csv', '[ab].csv'];

  it('a declared source stores each file once, under its own name, and a second run finds nothing new', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.s') } });
    for (const [i, name] of names.entries()) write(`in/${name}`, `id,name\n${i},"${name}"\n`);
    const report = await runIngest(lake);
    expect(report.sources[0]).toMatchObject({ discovered: names.length, rows: names.length, quarantined: [] });
    const stored = await rows(lake, 'SELECT name, _source_file FROM bronze.s ORDER BY id');
    expect(stored).toEqual(names.map((name) => ({ name, _source_file: `in/${name}` })));
    expect((await runIngest(lake)).sources[0]).toMatchObject({ unchanged: names.length, rows: 0 });
  });

  it('a single file of a batch with such a name is read as itself', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/sales[[]1].csv', 'bronze.one') } });
    write('in/sales[1].csv', 'id\n1\n');
    write('in/sales1.csv', 'id\n2\n2\n');
    expect((await runIngest(lake)).sources[0]).toMatchObject({ discovered: 1, rows: 1 });
    expect(await rows(lake, 'SELECT id, _source_file FROM bronze.one')).toEqual([{ id: 1, _source_file: 'in/sales[1].csv' }]);
  });

  it('ad hoc: a glob matching files with glob characters records each row under its real file', async () => {
    const { lake, write, dir } = await openTestLake();
    write('drop/a[1].csv', 'v\na-bracket\n');
    write('drop/a1.csv', 'v\na-plain\n');
    write('drop/b*.csv', 'v\nb-star\n');
    write('drop/bx.csv', 'v\nb-x\n');
    const report = await runIngestFiles(lake, 'drop/[ab]*.csv', 'bronze.adhoc', {}, { cwd: dir });
    expect(report.sources[0]).toMatchObject({ discovered: 4, rows: 4 });
    expect(await rows(lake, 'SELECT v, _source_file FROM bronze.adhoc ORDER BY v')).toEqual([
      { v: 'a-bracket', _source_file: 'drop/a[1].csv' },
      { v: 'a-plain', _source_file: 'drop/a1.csv' },
      { v: 'b-star', _source_file: 'drop/b*.csv' },
      { v: 'b-x', _source_file: 'drop/bx.csv' },
    ]);
  });

  it('a project folder with glob characters: ingest, models, queries, compaction and quarantine retries', async () => {
    const { lake, write } = await openTestLake(
      {
        sources: { s: src('in/*.csv', 'bronze.s', { onError: 'quarantine', schema: { columns: { id: 'BIGINT' } } }) },
        // Partitioned writes too: COPY … PARTITION_BY into a folder whose path has glob characters.
        tables: { 'bronze.s': { partitionBy: { column: 'd', granularity: 'month' } } },
      },
      { folderName: 'data[2024]*' },
    );
    write('in/x.csv', 'id,d\n1,2024-01-05\n');
    write('in/y.csv', 'id,d\n2,2024-02-05\n');
    write('in/bad[1].csv', 'id,d\nnot-a-number,2024-01-01\n');
    write('models/silver/ids.sql', 'SELECT id FROM bronze.s');
    const report = await runIngest(lake);
    expect(report.sources[0]!.quarantined.map((q) => q.path)).toEqual(['in/bad[1].csv']);
    await runModels(lake);
    expect(await rows(lake, 'SELECT id FROM silver.ids ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    await lake.compact('bronze.s');
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.s')).toEqual([{ n: 2 }]);
    // The preserved copy is read from the lake, whose path has glob characters too.
    const retried = await retryQuarantined(lake, report.sources[0]!.quarantined[0]!.id!);
    expect(retried.sources[0]!.quarantined[0]).toMatchObject({ reasonCode: 'rows_rejected' });
  });

  it("an embedded catalog under a path with '?' is refused with the reason, not opened with its log elsewhere", async () => {
    await expect(openTestLake({}, { folderName: 'what?' })).rejects.toThrow(/embedded catalog .*what\?.* cannot live in a folder whose path contains '\?'/);
  });
});
