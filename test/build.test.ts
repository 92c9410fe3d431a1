import { describe, expect, it } from 'vitest';
import { checks } from '../src/config/define.js';
import { runBuild } from '../src/orchestration/build.js';
import { cli } from './support/helpers.js';
import { openTestLake } from './support/project.js';

async function shop() {
  return openTestLake({
    sources: {
      sales: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales', schema: { columns: { id: 'BIGINT', amount: 'DECIMAL(10,2)', country: 'VARCHAR' } } },
    },
    checks: {
      'silver.sales': [checks.unique('id'), checks.notNull('country')],
      // Made to fail: France's total is 15.75.
      'gold.by_country': [checks.range('total', { max: 10 })],
    },
  });
}

describe('tributary build', () => {
  it('ingests, builds and checks in dependency order; a failure blocks only what depends on it; passed checks are reported', async () => {
    const { lake, write, dir } = await shop();
    write('in/a.csv', 'id,amount,country\n1,10.50,France\n2,20.00,Spain\n3,5.25,France\n');
    write('models/silver/sales.sql', 'SELECT * EXCLUDE (_ingested_at, _source, _source_file, _file_hash, _batch_id) FROM bronze.sales');
    write('models/gold/by_country.sql', 'SELECT country, sum(amount) AS total FROM silver.sales GROUP BY ALL');
    write('models/gold/top.sql', 'SELECT * FROM gold.by_country ORDER BY total DESC LIMIT 1');
    write('models/gold/counts.sql', 'SELECT count(*) AS n FROM silver.sales');
    const report = await runBuild(lake);
    expect(report.assets.map((a) => [a.asset, a.status])).toEqual([
      ['source:sales', 'success'],
      ['silver.sales', 'success'],
      ['gold.by_country', 'failed_checks'],
      ['gold.counts', 'success'],
      ['gold.top', 'blocked'],
    ]);
    expect(report.assets[0]!.detail).toBe('1 file(s) ingested');
    expect(report.assets.find((a) => a.asset === 'gold.top')!.error).toBe('not built: gold.by_country failed');
    expect(report.status).toBe('failed');
    expect(report.checks.map((c) => [c.table, c.check, c.status]).sort()).toEqual([
      ['gold.by_country', 'range(total, max 10)', 'fail'],
      ['silver.sales', 'not_null(country)', 'pass'],
      ['silver.sales', 'unique(id)', 'pass'],
    ]);
    expect((await lake.catalog.runs.require(report.runId)).kind).toBe('build');

    // Again, with nothing new: every model is fresh, and its checks still run and are reported.
    const again = await runBuild(lake, { exclude: ['gold.top'] });
    expect(again.assets.filter((a) => a.kind === 'model').map((a) => a.status)).toEqual(['fresh', 'failed_checks', 'fresh']);
    expect(again.checks.filter((c) => c.status === 'pass')).toHaveLength(2);

    // Selection as in jobs; from the CLI, one summary and exit code 1 when something failed.
    const selected = await runBuild(lake, { select: ['+gold.counts'], exclude: ['source:*'] });
    expect(selected.assets.map((a) => a.asset)).toEqual(['silver.sales', 'gold.counts']);
    expect(selected.status).toBe('success');
    write(
      'tributary.config.ts',
      `import { checks, defineConfig } from 'tributary-data';
export default defineConfig({
  sources: { sales: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales', schema: { columns: { id: 'BIGINT', amount: 'DECIMAL(10,2)', country: 'VARCHAR' } } } },
  checks: { 'silver.sales': [checks.unique('id'), checks.notNull('country')], 'gold.by_country': [checks.range('total', { max: 10 })] },
});
`,
    );
    const out = await cli(['build', '--project', dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/ok {3}silver\.sales unique\(id\): pass/);
    expect(out.stdout).toMatch(/^gold\.by_country: not published: checks failed: range\(total, max 10\)/m);
    expect(out.stdout).toMatch(/build build-\S+: failed · 5 assets: 1 built, 2 fresh, 1 failed, 1 blocked · checks: 2 passed, 1 not passed/);
    const bad = await cli(['build', '--select', 'gold.nope', '--project', dir]);
    expect(bad.stderr).toMatch(/--select: "gold\.nope" matches no asset/);
  });
});

describe('a job whose models are fresh', () => {
  it('finishes their tasks without a task process, and runs what has something to do: a changed model, a new file, checks on a new snapshot', async () => {
    const { write, dir } = await openTestLake();
    write('in/a.csv', 'id,amount\n1,10\n2,20\n');
    write('models/silver/sales.sql', 'SELECT id, amount FROM bronze.sales');
    write('models/gold/total.sql', 'SELECT sum(amount) AS total FROM silver.sales');
    const config = (checks: string) =>
      `export default { sources: { sales: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales' } }, checks: { 'bronze.sales': [${checks}] }, jobs: { nightly: { select: ['source:*', 'check:*', '*.*'] } } };\n`;
    write('tributary.config.ts', config(`{ kind: 'not_null', column: 'id' }`));
    const runJob = async () => {
      const ran = await cli(['jobs', 'run', 'nightly', '--json', '--project', dir]);
      expect(ran.code, ran.stderr).toBe(0);
      const run = JSON.parse(ran.stdout) as { runId: string };
      const shown = JSON.parse((await cli(['runs', 'show', run.runId, '--logs', '--json', '--project', dir])).stdout) as {
        attempts: { task: string; status: string; logs: string }[];
      };
      return (task: string) => shown.attempts.find((a) => a.task === task)!;
    };
    const first = await runJob();
    expect(first('gold.total').logs).toMatch(/built gold\.total/);
    expect(first('source:sales').logs).toMatch(/ingested 1 file\(s\) into bronze\.sales/);
    expect(first('check:bronze.sales').logs).toMatch(/1\/1 checks passed on bronze\.sales/);

    const second = await runJob();
    for (const task of ['silver.sales', 'gold.total']) {
      expect(second(task)).toMatchObject({
        status: 'success',
        logs: `${task} is fresh (same SQL, inputs unchanged since its last build): done without a task process`,
      });
    }
    expect(second('source:sales')).toMatchObject({
      status: 'success',
      logs: 'source:sales is fresh (no new content in the 1 file(s) it matches (1 unchanged)): done without a task process',
    });
    expect(second('check:bronze.sales')).toMatchObject({
      status: 'success',
      logs: 'check:bronze.sales is fresh (its 1 check(s) already ran on these very snapshots (bronze.sales@1): 1 passed): done without a task process',
    });

    // The model's SQL changed: no longer fresh, so it is built (and its reader with it).
    write('models/gold/total.sql', 'SELECT sum(amount) AS total, count(*) AS n FROM silver.sales');
    const third = await runJob();
    expect(third('silver.sales').logs).toMatch(/fresh/);
    expect(third('gold.total').logs).toMatch(/built gold\.total/);

    // A changed check definition runs the checks again, on the same snapshot.
    write('tributary.config.ts', config(`{ kind: 'range', column: 'amount', min: 0 }`));
    const fourth = await runJob();
    expect(fourth('check:bronze.sales').logs).toMatch(/1\/1 checks passed on bronze\.sales/);
    // A new file: the source ingests it, and its checks run on the new snapshot, and the models build.
    write('in/b.csv', 'id,amount\n3,30\n');
    const fifth = await runJob();
    expect(fifth('source:sales').logs).toMatch(/ingested 1 file\(s\) into bronze\.sales/);
    expect(fifth('check:bronze.sales').logs).toMatch(/1\/1 checks passed on bronze\.sales/);
    expect(fifth('gold.total').logs).toMatch(/built gold\.total/);
  }, 150_000);
});
