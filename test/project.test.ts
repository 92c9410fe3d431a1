import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, run, tempDir } from './support/helpers.js';

describe('a project of your own', () => {
  it('outside any project, commands fail with one line and create nothing', async () => {
    const empty = tempDir('trib-nowhere-');
    for (const args of [['lake', 'tables'], ['ingest'], ['sql', 'SELECT 1'], ['runs', 'ls']]) {
      const r = await cli(args, { cwd: empty });
      expect(r.code, args.join(' ')).toBe(4);
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

  it('npm pack, then npm install of the tarball in a folder of its own: the command and the config import work, and the dashboard files ship', async () => {
    // Packed from a copy of the tracked files (as a fresh clone holds them), so that this test never rebuilds the
    // clone's own dist/ under the other tests' feet.
    const work = tempDir('trib-pack-');
    const source = path.join(work, 'source');
    const tracked = await run('git', ['ls-files', '-z'], { cwd: ROOT });
    expect(tracked.code, tracked.stderr).toBe(0);
    for (const file of tracked.stdout.split('\0').filter(Boolean)) {
      if (!existsSync(path.join(ROOT, file))) continue; // deleted in the work tree, not committed yet
      mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
      cpSync(path.join(ROOT, file), path.join(source, file));
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(source, 'node_modules'));
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: source });
    expect(pack.code, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['bin/tributary.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dashboard/app.js', 'package.json']),
    );
    // Nothing of the development tree: no sources, tests or lakes in the package.
    expect(files.filter((f) => /^(src|test|bench|scripts)\/|^examples\/[^/]+\/(lake|\.tributary|node_modules)\//.test(f))).toEqual([]);

    const shop = path.join(work, 'shop');
    mkdirSync(path.join(shop, 'data'), { recursive: true });
    mkdirSync(path.join(shop, 'models/silver'), { recursive: true });
    writeFileSync(path.join(shop, 'package.json'), JSON.stringify({ name: 'shop', private: true, type: 'module' }));
    const install = await run('npm', ['install', path.join(work, packed!.filename), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: shop });
    expect(install.code, install.stderr).toBe(0);
    writeFileSync(
      path.join(shop, 'tributary.config.ts'),
      `import { defineConfig } from 'tributary-data';
export default defineConfig({ sources: { sales: { kind: 'files', glob: 'data/*.csv', into: 'bronze.sales' } } });
`,
    );
    writeFileSync(path.join(shop, 'data/sales.csv'), 'id,amount\n1,10.5\n2,20\n');
    writeFileSync(path.join(shop, 'models/silver/sales.sql'), 'SELECT id, amount FROM bronze.sales WHERE amount > 15');
    const build = await run('npx', ['--no-install', 'tributary', 'build'], { cwd: shop });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const sql = await run('npx', ['--no-install', 'tributary', 'sql', 'SELECT id, amount FROM silver.sales', '--json'], { cwd: shop });
    expect(sql.code, sql.stderr).toBe(0);
    expect(JSON.parse(sql.stdout)).toEqual([{ id: 2, amount: 20 }]);
    // The installed package serves its dashboard's files (they ship in the tarball).
    expect(existsSync(path.join(shop, 'node_modules/tributary-data/dashboard/index.html'))).toBe(true);
  }, 240_000);
});
