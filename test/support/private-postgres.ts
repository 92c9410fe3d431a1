import { chmodSync, chownSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import { freePort, run, tempDir } from './helpers.js';

/**
 * A PostgreSQL server of the test's own (Debian's binaries, a fresh data folder, a free port), for tests that
 * restart or stop the server: the shared one on 5432 serves other test files at the same time.
 */
export interface PrivatePostgres {
  url: string;
  restart(): Promise<void>;
}

/** `settings` are server settings (`wal_level: 'logical'`), given on its command line. */
export async function startPrivatePostgres(settings: Record<string, string> = {}): Promise<PrivatePostgres> {
  const versions = readdirSync('/usr/lib/postgresql').sort();
  const bin = path.join('/usr/lib/postgresql', versions.at(-1)!, 'bin');
  const data = path.join(tempDir('trib-pg-'), 'data');
  const port = await freePort();
  // initdb refuses to run as root: the cluster belongs to the postgres user then.
  const asRoot = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args));
  if (asRoot) {
    const parent = path.dirname(data);
    chmodSync(parent, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(parent, uid, gid);
  }
  const init = await as(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const ctl = (...args: string[]) => as(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', path.join(data, 'server.log'), ...args]);
  const extra = Object.entries(settings)
    .map(([k, v]) => ` -c ${k}=${v}`)
    .join('');
  const options = ['-o', `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off${extra}`];
  const started = await ctl(...options, 'start');
  if (started.code !== 0) throw new Error(`pg_ctl start failed: ${started.stderr}${started.stdout}`);
  afterAll(async () => {
    await ctl('-m', 'immediate', 'stop');
  });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      const r = await ctl(...options, '-m', 'fast', 'restart');
      if (r.code !== 0) throw new Error(`pg_ctl restart failed: ${r.stderr}${r.stdout}`);
    },
  };
}
