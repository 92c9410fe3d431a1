import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checks } from '../src/config/define.js';
import type { TributaryConfig } from '../src/config/types.js';
import { runIngest } from '../src/ingest/run.js';
import { loadGraph, runModels } from '../src/models/run.js';
import { checkTables } from '../src/checks/run.js';
import { openTestLake, rows } from './support/project.js';

async function project(config: TributaryConfig, models: Record<string, string>) {
  const t = await openTestLake({ sources: { ev: { kind: 'files', glob: 'in/*.csv', into: 'bronze.events' } }, ...config });
  const writeModel = (name: string, sql: string) => {
    const [layer, table] = name.split('.') as [string, string];
    mkdirSync(path.join(t.dir, 'models', layer), { recursive: true });
    writeFileSync(path.join(t.dir, 'models', layer, `${table}.sql`), sql);
  };
  for (const [name, sql] of Object.entries(models)) writeModel(name, sql);
  return { ...t, writeModel };
}

const status = (report: Awaited<ReturnType<typeof runModels>>) => Object.fromEntries(report.models.map((m) => [m.model, m.status]));

describe('model graph', () => {
  it('finds dependencies from the SQL, orders models and selects targets', async () => {
    const { lake } = await project(
      {},
      {
        'silver.events': 'SELECT * FROM bronze.events',
        'gold.by_kind': 'WITH e AS (SELECT * FROM silver.events) SELECT kind, count(*) AS n FROM e GROUP BY kind',
        'gold.total': 'SELECT (SELECT sum(n) FROM gold.by_kind) AS n, (SELECT count(*) FROM "silver"."events") AS m',
        'gold.lonely': "SELECT 1 AS x FROM read_csv('nowhere.csv')",
      },
    );
    const graph = await loadGraph(lake);
    expect(graph.order).toEqual(['silver.events', 'gold.by_kind', 'gold.lonely', 'gold.total']);
    expect(graph.nodes.get('gold.total')!.upstream).toEqual(['gold.by_kind', 'silver.events']);
    expect(graph.nodes.get('bronze.events')!.kind).toBe('table');
    expect(graph.select(['gold.total'])).toEqual(['gold.total']);
    expect(graph.select(['+gold.total'])).toEqual(['silver.events', 'gold.by_kind', 'gold.total']);
    expect(graph.select(['silver.events+'])).toEqual(['silver.events', 'gold.by_kind', 'gold.total']);
    expect(graph.select(['gold'])).toEqual(['gold.by_kind', 'gold.lonely', 'gold.total']);
    expect(() => graph.select(['platinum'])).toThrow(/no model or layer named "platinum"/);
    expect(graph.toText()).toMatch(/gold\.by_kind\s+table\s+← silver\.events/);
    expect(graph.toDot()).toContain('"silver.events" -> "gold.by_kind";');
    expect(graph.toJson().edges).toContainEqual({ from: 'bronze.events', to: 'silver.events' });
  });

  it('refuses cycles, bad settings and non-SELECT models, naming the file', async () => {
    const cyc = await project({}, { 'silver.a': 'SELECT * FROM silver.b', 'silver.b': 'SELECT * FROM silver.a' });
    await expect(loadGraph(cyc.lake)).rejects.toThrow(/models form a cycle: silver\.a → silver\.b → silver\.a/);
    const bad = await project({}, { 'silver.m': '-- materialized: merge\nSELECT 1 AS id' });
    await expect(loadGraph(bad.lake)).rejects.toThrow(/models\/silver\/m\.sql:1: materialized: merge needs a unique_key/);
    const typo = await project({}, { 'silver.m': '-- materialised: table\nSELECT 1 AS id' });
    await expect(loadGraph(typo.lake)).rejects.toThrow(/models\/silver\/m\.sql:1: unknown model setting "materialised"/);
    const comments = await project({}, { 'silver.m': '-- note: plain comments are fine\n-- materialized: incremental\nSELECT 1 AS id FROM bronze.events' });
    expect((await loadGraph(comments.lake)).nodes.get('silver.m')!.model!.materialized).toBe('incremental');
    const wrong = await project({}, { 'silver.m': '-- description: x\n-- materialized: snapshot\nSELECT 1 AS id' });
    await expect(loadGraph(wrong.lake)).rejects.toThrow(/models\/silver\/m\.sql:2: materialized must be table, incremental or merge/);
    const ddl = await project({}, { 'silver.m': 'DROP TABLE bronze.events' });
    await expect(loadGraph(ddl.lake)).rejects.toThrow(/models\/silver\/m\.sql: a model is one SELECT query/);
    const syntax = await project({}, { 'silver.m': 'SELECT id,\n  kind\nFROM bronze.events\nWHERE (' });
    await expect(loadGraph(syntax.lake)).rejects.toThrow(/models\/silver\/m\.sql:4: syntax error/);
  });
});

describe('materializations', () => {
  it('table: full refresh; skipped as fresh when inputs did not change; --full-refresh forces', async () => {
    const { lake, write } = await project({}, { 'silver.t': 'SELECT kind, count(*) AS n FROM bronze.events GROUP BY kind' });
    write('in/a.csv', 'id,kind\n1,x\n2,y\n3,x\n');
    await runIngest(lake);
    const first = await runModels(lake);
    expect(first.models[0]).toMatchObject({ status: 'success', mode: 'full', rowsIn: 3, rowsOut: 2, snapshotId: 1 });
    expect(status(await runModels(lake))).toEqual({ 'silver.t': 'fresh' });
    expect((await runModels(lake, { fullRefresh: true })).models[0]).toMatchObject({ status: 'success', snapshotId: 2 });
    write('in/b.csv', 'id,kind\n4,z\n');
    await runIngest(lake);
    expect((await runModels(lake)).models[0]).toMatchObject({ status: 'success', rowsOut: 3, snapshotId: 3 });
    expect((await lake.history('silver.t'))[0]!.operation).toBe('overwrite');
  });

  it('incremental: appends what the SQL computes over the new input files only', async () => {
    const { lake, write } = await project({}, { 'silver.inc': '-- materialized: incremental\nSELECT id, kind, _source_file FROM bronze.events' });
    write('in/a.csv', 'id,kind\n1,x\n2,y\n');
    await runIngest(lake);
    expect((await runModels(lake)).models[0]).toMatchObject({ mode: 'full', rowsOut: 2 });
    write('in/b.csv', 'id,kind\n3,z\n');
    await runIngest(lake);
    expect((await runModels(lake)).models[0]).toMatchObject({ mode: 'incremental', rowsIn: 1, rowsOut: 1, snapshotId: 2 });
    expect((await lake.history('silver.inc'))[0]!.operation).toBe('append');
    expect(await rows(lake, 'SELECT id FROM silver.inc ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    // A rewritten input (compaction) cannot be read incrementally: full refresh, same result.
    await lake.compact('bronze.events');
    expect((await runModels(lake)).models[0]).toMatchObject({ mode: 'full', rowsOut: 3 });
    expect(await rows(lake, 'SELECT count(*) AS n FROM silver.inc')).toEqual([{ n: 3 }]);
  });

  it('rebuilds whole when the table moved on since its last recorded build (another writer, or a crash before the record)', async () => {
    const { lake, write } = await project({}, { 'silver.inc': '-- materialized: incremental\nSELECT id, kind FROM bronze.events' });
    write('in/a.csv', 'id,kind\n1,x\n');
    await runIngest(lake);
    await runModels(lake);
    await lake.write('silver.inc', "SELECT 99 AS id, 'stray' AS kind", { mode: 'append' });
    expect((await runModels(lake)).models[0]).toMatchObject({ status: 'success', mode: 'full', rowsOut: 1 });
    expect(await rows(lake, 'SELECT id FROM silver.inc')).toEqual([{ id: 1 }]);
  });

  it('a check reads the tables it needs, even those the model does not read or this run does not build', async () => {
    const { lake, write } = await project(
      { checks: { 'silver.orders': [checks.relationships('kind', 'silver.kinds', 'kind')] } },
      { 'silver.kinds': "SELECT * FROM (VALUES ('x'), ('y')) AS t(kind)", 'silver.orders': 'SELECT id, kind FROM bronze.events' },
    );
    write('in/a.csv', 'id,kind\n1,x\n2,z\n');
    await runIngest(lake);
    await runModels(lake, { targets: ['silver.kinds'] });
    const report = await runModels(lake, { targets: ['silver.orders'] });
    expect(report.models[0]).toMatchObject({ status: 'failed_checks' });
    expect(report.models[0]!.checks[0]).toMatchObject({ status: 'fail', failingRows: 1, sample: [{ id: 2, kind: 'z' }] });
  });

  it('merge: new rows replace existing rows with the same unique key', async () => {
    const { lake, write } = await project({}, { 'silver.latest': '-- materialized: merge\n-- unique_key: id\nSELECT id, kind FROM bronze.events' });
    write('in/a.csv', 'id,kind\n1,old\n2,old\n');
    await runIngest(lake);
    await runModels(lake);
    write('in/b.csv', 'id,kind\n2,new\n3,new\n');
    await runIngest(lake);
    expect((await runModels(lake)).models[0]).toMatchObject({ mode: 'incremental', rowsIn: 2, rowsOut: 3 });
    expect(await rows(lake, 'SELECT id, kind FROM silver.latest ORDER BY id')).toEqual([
      { id: 1, kind: 'old' },
      { id: 2, kind: 'new' },
      { id: 3, kind: 'new' },
    ]);
    // A key that is not unique in the new rows is refused, and nothing is published.
    write('in/c.csv', 'id,kind\n4,a\n4,b\n');
    await runIngest(lake);
    const report = await runModels(lake);
    expect(report.models[0]).toMatchObject({ status: 'failed_checks', error: expect.stringMatching(/unique_key\(id\) \(1 failing\)/) });
    expect(await rows(lake, 'SELECT count(*) AS n FROM silver.latest')).toEqual([{ n: 3 }]);
  });

  it('names the model file and line of a SQL error, and blocks what is downstream', async () => {
    const { lake, write } = await project(
      {},
      {
        'silver.broken': 'SELECT id,\n  no_such_column\nFROM bronze.events',
        'gold.after': 'SELECT count(*) AS n FROM silver.broken',
        'silver.fine': 'SELECT id FROM bronze.events',
      },
    );
    write('in/a.csv', 'id,kind\n1,x\n');
    await runIngest(lake);
    const report = await runModels(lake);
    expect(report.status).toBe('failed');
    expect(status(report)).toEqual({ 'silver.broken': 'failed', 'silver.fine': 'success', 'gold.after': 'blocked' });
    expect(report.models.find((m) => m.model === 'silver.broken')!.error).toMatch(
      /^models\/silver\/broken\.sql:2: Binder Error: Referenced column "no_such_column" not found/,
    );
    const recorded = await lake.catalog.runLog.modelRuns(report.runId);
    expect(recorded.map((r) => [r.model, r.status])).toEqual(
      expect.arrayContaining([
        ['gold.after', 'blocked'],
        ['silver.broken', 'failed'],
      ]),
    );
    expect((await lake.catalog.runs.require(report.runId)).status).toBe('failed');
  });

  it('points a binder error at its line whatever the materialization, header lines and line endings', async () => {
    const { lake, write } = await project(
      {},
      {
        'silver.incr': '-- materialized: incremental\nSELECT\n  id,\n  kind,\n  nope_incr\nFROM bronze.events',
        'silver.merged': '-- materialized: merge\n-- unique_key: id\nSELECT\n  id,\n\n\n  nope_merge\nFROM bronze.events',
        'silver.crlf': 'SELECT id,\r\n kind,\r\n nope_crlf\r\nFROM bronze.events\r\n',
        'silver.grouped': 'WITH e AS (\n  SELECT * FROM bronze.events\n)\nSELECT\n  e.id,\n  sum(e.nope_cte)\nFROM e\nGROUP BY 1',
      },
    );
    write('in/a.csv', 'id,kind\n1,x\n');
    await runIngest(lake);
    const errors = Object.fromEntries((await runModels(lake)).models.map((m) => [m.model, m.error]));
    expect(errors['silver.incr']).toMatch(/^models\/silver\/incr\.sql:5: Binder Error: .*"nope_incr"/);
    expect(errors['silver.merged']).toMatch(/^models\/silver\/merged\.sql:7: Binder Error: .*"nope_merge"/);
    expect(errors['silver.crlf']).toMatch(/^models\/silver\/crlf\.sql:3: Binder Error: .*"nope_crlf"/);
    expect(errors['silver.grouped']).toMatch(/^models\/silver\/grouped\.sql:6: Binder Error: .*nope_cte/);
  });

  it('fails clearly when an input has no data yet', async () => {
    const { lake } = await project({}, { 'silver.t': 'SELECT * FROM bronze.events' });
    const report = await runModels(lake);
    expect(report.models[0]!.error).toMatch(/models\/silver\/t\.sql: reads bronze\.events, which has no data yet/);
  });
});

describe('data-quality checks', () => {
  const dirty = 'id,kind,amount,day,parent\n1,x,10,2024-01-01,1\n2,y,-5,2024-01-02,9\n2,q,20000,2024-01-03,1\n,x,7,2024-01-04,2\n';

  it('each check type finds its failing rows; warn reports, error blocks downstream and keeps the snapshot unpublished', async () => {
    const { lake, write } = await project(
      {
        checks: {
          'silver.s': [
            checks.notNull('id', { severity: 'warn' }),
            checks.unique('id', { severity: 'warn' }),
            checks.acceptedValues('kind', ['x', 'y'], { severity: 'warn' }),
            checks.range('amount', { min: 0, max: 10000 }, { severity: 'warn' }),
            checks.rowCount({ max: 3 }, { severity: 'warn' }),
            checks.freshness('day', 24, { severity: 'warn' }),
            checks.relationships('parent', 'silver.s', 'id', { severity: 'warn' }),
            checks.sql('no big amounts on y', "SELECT * FROM silver.s WHERE kind = 'y' AND amount > 0", { severity: 'warn' }),
          ],
          'gold.g': [checks.range('n', { max: 2 })],
        },
      },
      { 'silver.s': 'SELECT * FROM bronze.events', 'gold.g': 'SELECT count(*) AS n FROM silver.s', 'gold.h': 'SELECT * FROM gold.g' },
    );
    write('in/a.csv', dirty);
    await runIngest(lake);
    const report = await runModels(lake);
    const s = report.models.find((m) => m.model === 'silver.s')!;
    expect(s.status).toBe('success'); // warnings only
    expect(Object.fromEntries(s.checks.map((c) => [c.check, [c.status, c.failingRows]]))).toEqual({
      'not_null(id)': ['fail', 1],
      'unique(id)': ['fail', 1],
      'accepted_values(kind)': ['fail', 1],
      'range(amount, min 0, max 10000)': ['fail', 2],
      'row_count(..3)': ['fail', 1],
      'freshness(day, 24h)': ['fail', 1],
      'relationships(parent → silver.s.id)': ['fail', 1],
      'no big amounts on y': ['pass', 0],
    });
    expect(s.checks.find((c) => c.check === 'accepted_values(kind)')!.sample).toEqual([expect.objectContaining({ id: 2, kind: 'q' })]);
    const g = report.models.find((m) => m.model === 'gold.g')!;
    expect(g).toMatchObject({ status: 'failed_checks', snapshotId: undefined });
    expect(await lake.catalog.getTable('gold.g')).toBeUndefined(); // write-audit-publish: never published
    expect(status(report)['gold.h']).toBe('blocked');
    expect(report.status).toBe('failed');
    const stored = await lake.catalog.runLog.checkResults(report.runId);
    expect(stored).toHaveLength(9);
    expect(stored.find((c) => c.check === 'range(n, max 2)')).toMatchObject({ severity: 'error', status: 'fail', failingRows: 1, sample: [{ n: 4 }] });
  });

  it('a check that cannot run is an error, not a pass; `check` runs checks alone', async () => {
    const { lake, write } = await project({ checks: { 'bronze.events': [checks.notNull('nope'), checks.notNull('id', { severity: 'warn' })] } }, {});
    write('in/a.csv', dirty);
    await runIngest(lake);
    const report = await checkTables(lake);
    expect(report.status).toBe('failed');
    expect(report.results.map((r) => [r.check, r.status])).toEqual([
      ['not_null(nope)', 'error'],
      ['not_null(id)', 'fail'],
    ]);
    expect(report.results[0]!.error).toMatch(/nope/);
    await expect(checkTables(lake, ['silver'])).rejects.toThrow(/no checks are declared for "silver"/);
  });

  it('checks on a source table block the models that read it', async () => {
    const { lake, write } = await project({ checks: { 'bronze.events': [checks.unique('id')] } }, { 'silver.s': 'SELECT * FROM bronze.events' });
    write('in/a.csv', dirty);
    await runIngest(lake);
    const report = await runModels(lake);
    expect(report.inputChecks.map((c) => [c.table, c.status])).toEqual([['bronze.events', 'fail']]);
    expect(status(report)).toEqual({ 'silver.s': 'blocked' });
  });
});
