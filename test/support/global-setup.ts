import { execSync } from 'node:child_process';
import pg from 'pg';

/** The suite needs the real PostgreSQL server: start it if it is down (the machine's service command). */
export default async function setup(): Promise<void> {
  if (await reachable()) return;
  try {
    execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', { stdio: 'inherit', shell: '/bin/bash' });
  } catch (err) {
    throw new Error(`PostgreSQL is not running on 127.0.0.1:5432 and could not be started: ${(err as Error).message}`);
  }
  for (let i = 0; i < 50; i++) {
    if (await reachable()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('PostgreSQL did not come up on 127.0.0.1:5432');
}

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: process.env.TRIBUTARY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test' });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
