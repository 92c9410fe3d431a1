import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { cli, tempDir } from './support/helpers.js';

describe('tributary CLI', () => {
  it('documents every command and option in --help', async () => {
    const program = buildProgram();
    const walk = (cmd: typeof program, prefix: string[]): string[][] => [
      prefix,
      ...cmd.commands.flatMap((c) => walk(c as typeof program, [...prefix, c.name()])),
    ];
    const paths = walk(program, []).filter((p) => p.at(-1) !== 'help');
    expect(paths.length).toBeGreaterThan(12);
    for (const p of paths) {
      const cmd = p.reduce((c, name) => c.commands.find((x) => x.name() === name) as typeof program, program);
      expect(cmd.description(), p.join(' ')).not.toBe('');
      for (const option of cmd.options) expect(option.description, `${p.join(' ')} ${option.flags}`).not.toBe('');
    }
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const name of ['init', 'ingest', 'lake', 'sql', 'quarantine', 'runs']) expect(top.stdout).toContain(name);
    const sub = await cli(['lake', 'show', '--help']);
    expect(sub.stdout).toContain('--as-of');
  });

  it('scaffolds a project that ingests, lists, queries and time-travels', async () => {
    const dir = path.join(tempDir(), 'demo');
    const init = await cli(['init', dir]);
    expect(init.code, init.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'tributary.config.ts'))).toBe(true);

    const ingest = await cli(['ingest', '--project', dir, '--json']);
    expect(ingest.code, ingest.stderr).toBe(0);
    const report = JSON.parse(ingest.stdout);
    expect(report.sources[0]).toMatchObject({ source: 'sales', rows: 6, rejectedRows: 1 });

    const tables = JSON.parse((await cli(['lake', 'tables', '--project', dir, '--json'])).stdout);
    expect(tables.map((t: { name: string }) => t.name)).toEqual(['bronze.sales', 'bronze.sales_rejects']);

    const csv = await cli([
      'sql',
      'SELECT country, sum(amount) AS revenue FROM bronze.sales GROUP BY ALL ORDER BY 2 DESC',
      '--format',
      'csv',
      '--project',
      dir,
    ]);
    expect(csv.stdout.trim().split('\n')).toEqual(['country,revenue', 'France,410.50', 'Belgium,50.75', 'Spain,42.90']);

    const history = JSON.parse((await cli(['lake', 'history', 'bronze.sales', '--project', dir, '--json'])).stdout);
    expect(history[0]).toMatchObject({ snapshotId: 1, operation: 'append', rowCount: 6 });
    const shown = JSON.parse((await cli(['lake', 'show', 'bronze.sales', '--as-of', '1', '--limit', '2', '--project', dir, '--json'])).stdout);
    expect(shown.rows).toHaveLength(2);

    writeFileSync(path.join(dir, 'data/sales/2024-03.csv'), 'sale_id,sold_at,customer,amount\n8,2024-03-01 10:00:00,Zoe,1.00\n');
    const second = JSON.parse((await cli(['ingest', 'sales', '--project', dir, '--json'])).stdout);
    expect(second.sources[0]).toMatchObject({ unchanged: 2, rows: 1 });
    const runs = JSON.parse((await cli(['runs', 'ls', '--project', dir, '--json'])).stdout);
    expect(runs).toHaveLength(2);
    // A file with a column the table did not have: the history names the change.
    writeFileSync(path.join(dir, 'data/sales/2024-04.csv'), 'sale_id,sold_at,customer,amount,channel\n9,2024-04-01 10:00:00,Ana,2.00,web\n');
    expect((await cli(['ingest', 'sales', '--project', dir])).code).toBe(0);
    const changed = JSON.parse((await cli(['lake', 'history', 'bronze.sales', '--project', dir, '--json'])).stdout);
    expect(changed[0].schemaChanges).toEqual(['+channel VARCHAR']);
    expect(changed[1].schemaChanges).toEqual([]);
    expect((await cli(['lake', 'history', 'bronze.sales', '--project', dir])).stdout).toMatch(/\+channel VARCHAR/);
    const vacuum = JSON.parse((await cli(['lake', 'vacuum', '--dry-run', '--project', dir, '--json'])).stdout);
    expect(vacuum.dryRun).toBe(true);
  });

  it('prints one clear line and exits non-zero on errors', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'tributary.config.ts'), 'export default {};\n');
    // The exit code says what kind of failure it is: 2 invalid input, 4 not found (see errors.ts and the README).
    const cases: [string[], RegExp, number][] = [
      [['lake', 'show', 'nope', '--project', dir], /"nope" is not a table name of the form layer\.table/, 2],
      [['lake', 'show', 'bronze.nope', '--project', dir], /table bronze\.nope does not exist/, 4],
      [['sql', 'DELETE FROM x', '--project', dir], /only SELECT queries are allowed/, 2],
      [['ingest', 'ghost', '--project', dir], /source "ghost" is not declared/, 4],
      [['lake', 'show', 'a.b', '--limit', 'many', '--project', dir], /--limit: "many" is not a non-negative integer/, 2],
      [['lake', 'tables', '--project', path.join(dir, 'missing')], /--project: no tributary\.config\.ts in .*missing/, 4],
      [['quarantine', 'retry', '42', '--project', dir], /quarantine entry 42 does not exist/, 4],
    ];
    for (const [args, message, code] of cases) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(code);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
    const json = await cli(['lake', 'show', 'nope', '--json', '--project', dir]);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'TABLE_NAME_INVALID' } });
    const usage = await cli(['lake', 'show']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument 'table'/);
  });

  it('quarantines a bad file and retries it from the CLI', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'tributary.config.ts'),
      `export default { sources: { s: { kind: 'files', glob: 'in/*.csv', into: 'bronze.s', csv: { encoding: process.env.ENC ?? 'utf-8' } } } };\n`,
    );
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'in'));
    writeFileSync(path.join(dir, 'in/l.csv'), Buffer.concat([Buffer.from('a,b\n1,caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    await cli(['ingest', '--project', dir]);
    const listed = JSON.parse((await cli(['quarantine', 'ls', '--json', '--project', dir])).stdout);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ reasonCode: 'invalid_encoding', path: 'in/l.csv', status: 'open' });
    const still = await cli(['quarantine', 'retry', String(listed[0].id), '--project', dir]);
    expect(still.code).toBe(1);
    const fixed = await cli(['quarantine', 'retry', String(listed[0].id), '--project', dir], { env: { ENC: 'latin-1' } });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/ingested: 1 row/);
    expect(JSON.parse((await cli(['quarantine', 'ls', '--json', '--project', dir])).stdout)).toEqual([]);
  });
});

describe('tributary run / check / graph / runs show', () => {
  it('builds models, reports fresh ones, exits 1 when an error check fails, and shows the run', async () => {
    const { mkdirSync } = await import('node:fs');
    const dir = tempDir();
    mkdirSync(path.join(dir, 'in'));
    mkdirSync(path.join(dir, 'models/silver'), { recursive: true });
    writeFileSync(path.join(dir, 'in/a.csv'), 'id,v\n1,10\n2,20\n');
    writeFileSync(path.join(dir, 'models/silver/v.sql'), '-- description: values\nSELECT id, v FROM bronze.a');
    writeFileSync(
      path.join(dir, 'tributary.config.ts'),
      `import { checks, defineConfig, files } from 'tributary-data';
export default defineConfig({
  sources: { a: files({ glob: 'in/*.csv', into: 'bronze.a' }) },
  checks: { 'silver.v': [checks.range('v', { max: Number(process.env.MAX_V ?? 100) })] },
});\n`,
    );
    expect((await cli(['ingest', '--project', dir])).code).toBe(0);
    const built = await cli(['run', '--project', dir]);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/silver\.v\s+success\s+full\s+2\s+2\s+1/);
    expect((await cli(['run', '--project', dir])).stdout).toMatch(/silver\.v\s+fresh/);

    const graph = await cli(['graph', '--project', dir, '--format', 'dot']);
    expect(graph.stdout).toContain('"bronze.a" -> "silver.v";');
    expect(JSON.parse((await cli(['graph', '--project', dir, '--json'])).stdout).nodes).toHaveLength(2);

    const failing = await cli(['run', '--full-refresh', '--project', dir], { env: { MAX_V: '15' } });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/FAIL silver\.v range\(v, max 15\): 1 failing row/);
    expect(failing.stdout).toMatch(/id\s+v\s*\n\s*[─ ]+\n\s*2\s+20/); // the sample of failing rows
    const checked = await cli(['check', '--project', dir, '--json'], { env: { MAX_V: '15' } });
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout).results[0]).toMatchObject({ table: 'silver.v', status: 'fail', failingRows: 1 });

    const runs = JSON.parse((await cli(['runs', 'ls', '--project', dir, '--json'])).stdout);
    const modelRun = runs.find((r: { kind: string; status: string }) => r.kind === 'models' && r.status === 'failed');
    const shown = await cli(['runs', 'show', modelRun.runId, '--project', dir]);
    expect(shown.stdout).toMatch(/silver\.v\s+failed_checks/);
    const unknown = await cli(['runs', 'show', 'nope', '--project', dir]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/run nope does not exist/);
  }, 120_000);
});

describe('tributary serve', () => {
  it('listens on 127.0.0.1, answers /health and the API, and stops cleanly on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const { ROOT } = await import('./support/helpers.js');
    const dir = path.join(tempDir(), 'demo');
    expect((await cli(['demo', dir, '--rows', '500'])).code).toBe(0);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/cli.ts'), 'serve', '--port', '0', '--json', '--project', dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const address: string = await new Promise((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(JSON.parse(String(d)).listening));
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${address}/health`)).json()).toMatchObject({ status: 'ok' });
      const kpis = await (await fetch(`${address}/api/v1/kpis/ca-par-mois`)).json();
      expect(kpis.rows).toHaveLength(12);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  }, 60_000);
});
