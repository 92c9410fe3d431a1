import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, run, tempDir } from './support/helpers.js';

describe('a project of your own', () => {
  it('outside any project, commands fail with one line and create nothing', async () => {
    const empty = tempDir('trib-nowhere-');
    for (const args of [['lake', 'tables'], ['ingest'], ['sql', 'SELECT 1'], ['runs', 'ls']]) {
      const r = await cli(args, { cwd: empty });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim()).toBe(
        `tributary: no tributary.config.ts in ${empty} or any folder above it: this is not a Tributary project (cd into a project, pass --project <dir>, or create one with \`tributary init <dir>\`)`,
      );
    }
    expect(readdirSync(empty)).toEqual([]);
    const given = await cli(['lake', 'tables', '--project', empty]);
    expect(given.stderr).toMatch(/--project: no tributary\.config\.ts in /);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('init, npm install, ingest and run from a folder outside the clone; commands find the project from a subfolder', async () => {
    const outside = tempDir('trib-user-');
    const init = await cli(['init', 'shop'], { cwd: outside });
    expect(init.code, init.stderr).toBe(0);
    const dir = path.join(outside, 'shop');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'shop', private: true, dependencies: { 'tributary-data': `file:${ROOT.replace(/\/$/, '')}` } });
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^lake\/$/m);
    expect(init.stdout).toMatch(/npm install\n {2}npx tributary ingest/);
    // Exactly what the printed next steps say, with the package this clone builds (no registry package is run).
    const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: dir });
    expect(install.code, install.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'node_modules/.bin/tributary'))).toBe(true);
    const ingest = await run('npx', ['--no-install', 'tributary', 'ingest'], { cwd: dir });
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toMatch(/bronze\.sales/);
    const build = await run('npx', ['--no-install', 'tributary', 'build'], { cwd: dir });
    expect(build.code, build.stderr).toBe(0);
    expect(build.stdout).toMatch(/build build-\S+: success/);
    // From a subfolder: the project above is found, and no lake is created where the command runs.
    mkdirSync(path.join(dir, 'models/silver'), { recursive: true });
    const tables = await run('npx', ['--no-install', 'tributary', 'lake', 'tables', '--json'], { cwd: path.join(dir, 'models') });
    expect(tables.code, tables.stderr).toBe(0);
    expect(JSON.parse(tables.stdout).map((t: { name: string }) => t.name)).toContain('bronze.sales');
    expect(existsSync(path.join(dir, 'models/lake'))).toBe(false);
  }, 120_000);
});
