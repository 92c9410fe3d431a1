import { describe, expect, it } from 'vitest';
import type { FileSourceConfig } from '../src/config/types.js';
import { checkTables } from '../src/checks/run.js';
import { checks } from '../src/config/define.js';
import { runIngest } from '../src/ingest/run.js';
import { runModels } from '../src/models/run.js';
import { openTestLake } from './support/project.js';

const src = (glob: string, into: string): FileSourceConfig => ({ kind: 'files', glob, into });

describe('mistakes get errors that help', () => {
  it('checks of a table nothing produces fail the load, naming the nearest table', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.sales') }, checks: { 'silver.sale': [checks.notNull('id')] } });
    write('in/a.csv', 'id\n1\n');
    write('models/silver/sales.sql', 'SELECT id FROM bronze.sales');
    await runIngest(lake);
    const expected = 'checks: silver.sale is not produced by any source, model or stream, and is not in the lake';
    await expect(runModels(lake)).rejects.toThrow(expected);
    await expect(checkTables(lake)).rejects.toThrow(expected);
    await expect(runModels(lake)).rejects.toMatchObject({ hint: 'did you mean silver.sales?' });
  });

  it('a model reading a table nothing produces says so, with the nearest name', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.sales') } });
    write('in/a.csv', 'id\n1\n');
    write('models/silver/sales.sql', 'SELECT id FROM bronze.sale');
    await runIngest(lake);
    const report = await runModels(lake);
    expect(report.models[0]).toMatchObject({
      status: 'failed',
      error: 'models/silver/sales.sql: reads bronze.sale, which no source, model or stream produces (did you mean bronze.sales?)',
    });
  });

  it('a glob that matches no file warns, and --strict makes it an error', async () => {
    const { lake } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.none') } });
    const report = await runIngest(lake);
    expect(report.sources[0]!.warnings).toEqual([expect.stringMatching(/^no file matches in\/\*\.csv \(relative to /)]);
    await expect(runIngest(lake, [], { strict: true })).rejects.toThrow('sources.s: no file matches in/*.csv');
  });

  it('tributary sql on a missing table names the table and the nearest one', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.sales') } });
    write('in/a.csv', 'id\n1\n');
    await runIngest(lake);
    for (const sql of ['SELECT * FROM bronze.sale', 'SELECT * FROM silver.sales']) {
      const err = await lake.query(sql).catch((e: unknown) => e as { code: string; message: string; hint?: string });
      expect(err).toMatchObject({
        code: 'TABLE_NOT_FOUND',
        message: `SQL: table ${sql.split(' ').at(-1)} does not exist in the lake`,
        hint: expect.stringMatching(/bronze\.sales/),
      });
    }
  });
});
