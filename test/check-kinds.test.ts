import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { registerCheckKind, unregisterCheckKind, type CheckKind } from '../src/checks/kinds.js';
import { checkTables } from '../src/checks/run.js';
import { runIngest } from '../src/ingest/run.js';
import { quoteIdent } from '../src/engine/sql.js';
import { runModels } from '../src/models/run.js';
import { type MaxLength, maxLengthSchema } from './support/extension-types.js';
import { openTestLake, rows } from './support/project.js';

// The recipe of docs/architecture.md, "Adding a check kind" (dbt's generic test): options, a name, the failing rows.

const maxLength: CheckKind<MaxLength> = {
  kind: 'max_length',
  schema: maxLengthSchema,
  name: (s) => `max_length(${s.column}, ${s.max})`,
  failingRows: (t, s) => `SELECT * FROM ${t} WHERE length(${quoteIdent(s.column)}) > ${s.max}`,
};

beforeAll(() => registerCheckKind(maxLength));
afterAll(() => unregisterCheckKind('max_length'));

describe('a check kind added outside the tree (the recipe)', () => {
  it('is validated with its own schema plus the common options, and named in errors', () => {
    expect(() => resolveConfig({ checks: { 'bronze.x': [{ kind: 'max_length', column: 'c', max: 0 }] } }, '/tmp', undefined)).toThrow(
      /checks\.bronze\.x\.0\.max: Too small/,
    );
    expect(() => resolveConfig({ checks: { 'bronze.x': [{ kind: 'max_length', column: 'c', max: 3, severity: 'fatal' }] } }, '/tmp', undefined)).toThrow(
      /checks\.bronze\.x\.0\.severity/,
    );
    expect(() => resolveConfig({ checks: { 'bronze.x': [{ kind: 'max_lenght', column: 'c' }] } }, '/tmp', undefined)).toThrow(
      /unknown check kind "max_lenght" \(did you mean "max_length"\?/,
    );
  });

  it("gates a model's publication like any check, and runs on a source table with `tributary check`", async () => {
    const { lake, write } = await openTestLake({
      sources: { names: { kind: 'files', glob: 'in/*.csv', into: 'bronze.names' } },
      checks: {
        'bronze.names': [{ kind: 'max_length', column: 'name', max: 5, severity: 'warn' }],
        'silver.names': [{ kind: 'max_length', column: 'name', max: 5 }],
      },
    } as never);
    write('in/a.csv', 'id,name\n1,Ann\n2,Bartholomew\n');
    write('models/silver/names.sql', 'SELECT id, name FROM bronze.names');
    await runIngest(lake);
    const checked = await checkTables(lake, ['bronze.names']);
    expect(checked.results.map((r) => [r.check, r.status, r.failingRows])).toEqual([['max_length(name, 5)', 'fail', 1]]);
    const report = await runModels(lake);
    expect(report.models[0]).toMatchObject({
      model: 'silver.names',
      status: 'failed_checks',
      error: expect.stringMatching(/max_length\(name, 5\) \(1 failing\)/),
    });
    expect(await lake.catalog.getTable('silver.names')).toBeUndefined();
    // Fixed upstream: the next run publishes.
    write('models/silver/names.sql', 'SELECT id, left(name, 5) AS name FROM bronze.names');
    expect((await runModels(lake)).status).toBe('success');
    expect(await rows(lake, 'SELECT name FROM silver.names ORDER BY id')).toEqual([{ name: 'Ann' }, { name: 'Barth' }]);
  });
});
