import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from './support/helpers.js';
import { startPrivatePostgres } from './support/private-postgres.js';

describe('operational store: the server restarts during tributary sync', () => {
  it('fails with one line naming the server and the table, without a crash; the next sync completes', async () => {
    const server = await startPrivatePostgres();
    const dir = tempDir('trib-sync-restart-');
    mkdirSync(path.join(dir, 'models/gold'), { recursive: true });
    writeFileSync(path.join(dir, 'models/gold/big.sql'), 'SELECT range AS id, md5(range::VARCHAR) AS v, range % 97 AS k FROM range(400000)');
    writeFileSync(path.join(dir, 'tributary.config.ts'), `export default { store: { url: '${server.url}', tables: { 'gold.big': { key: 'id' } } } };\n`);
    expect((await cli(['run', '--project', dir])).code).toBe(0);

    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/cli.ts'), 'sync', '--project', dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Restart once the sync is writing (its connection is busy in a transaction).
    const watcher = new pg.Client({ connectionString: server.url });
    await watcher.connect();
    let busy = false;
    for (let i = 0; i < 600 && !busy; i++) {
      const { rows } = await watcher.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tributary sync' AND state IN ('active', 'idle in transaction')`,
      );
      busy = rows[0].n > 0;
      if (!busy) await sleep(20);
    }
    await watcher.end();
    expect(busy).toBe(true);
    await server.restart();
    const code = await exited;
    // Unavailable (the server went away): exit code 6, worth retrying.
    expect(code).toBe(6);
    expect(stderr).not.toMatch(/Unhandled 'error' event|node:events|at .*\.js:\d+/);
    expect(stderr).toMatch(/store postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres.*: the connection was lost while syncing gold\.big/);

    const again = await cli(['sync', '--project', dir, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const check = new pg.Client({ connectionString: server.url });
    await check.connect();
    const { rows } = await check.query('SELECT count(*)::int AS n FROM public.gold_big');
    await check.end();
    expect(rows[0].n).toBe(400_000);
  });
});
