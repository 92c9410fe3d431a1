import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import type { CatalogLocation } from '../src/config/types.js';
import { Lake } from '../src/lake/lake.js';
import { cli, pgCatalog, ROOT, tempDir } from './support/helpers.js';

/** Starts a run in a child process and SIGKILLs it once the run is recorded. */
async function killedRun(dir: string, catalog: CatalogLocation, runId: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/start-run.ts'), dir, JSON.stringify(catalog), runId], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
    child.on('exit', (code) => reject(new Error(`the run's process exited early (${code})`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return child.pid!;
}

describe.each([
  ['embedded', (dir: string): CatalogLocation => ({ kind: 'embedded', path: path.join(dir, 'lake/_catalog/catalog.duckdb') })],
  ['PostgreSQL', (): CatalogLocation => pgCatalog()],
] as const)('a run whose process was killed (%s catalog)', (_name, location) => {
  it('is shown as abandoned, naming its process, and closed by the next run and by runs ls', async () => {
    const dir = tempDir('trib-abandoned-');
    writeFileSync(path.join(dir, 'tributary.config.ts'), 'export default {};\n');
    const catalog = location(dir);
    const pid = await killedRun(dir, catalog, 'ingest-killed');
    const config = resolveConfig({}, dir, undefined);
    config.catalog = catalog;
    const lake = await Lake.open(config);
    try {
      const [seen] = await lake.catalog.runs.list();
      expect(seen).toMatchObject({
        runId: 'ingest-killed',
        status: 'abandoned',
        error: expect.stringMatching(new RegExp(`pid ${pid} .* ended without finishing`)),
      });
      // A live run of this process is not abandoned.
      await lake.catalog.runs.start('live', 'models');
      expect((await lake.catalog.runs.require('live')).status).toBe('running');
      // startRun closed the abandoned one in the catalog itself.
      const stored = await lake.catalog.runs.require('ingest-killed');
      expect(stored).toMatchObject({ status: 'abandoned' });
      expect(stored.finishedAt).toBeInstanceOf(Date);
      await lake.catalog.runs.finish('live', 'success', null);
    } finally {
      await lake.close();
    }
    if (catalog.kind === 'embedded') {
      await killedRun(dir, catalog, 'ingest-killed-2');
      const listed = await cli(['runs', 'ls', '--json', '--project', dir]);
      expect(JSON.parse(listed.stdout).find((r: { runId: string }) => r.runId === 'ingest-killed-2')).toMatchObject({ status: 'abandoned' });
      const table = await cli(['runs', 'ls', '--project', dir]);
      expect(table.stdout).toMatch(/ingest-killed-2 +ingest +abandoned/);
    }
  });
});
