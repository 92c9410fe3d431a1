import { execSync } from 'node:child_process';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
// @ts-expect-error: a plain ESM script without types (scripts/ is not compiled)
import { startKafkaBroker } from '../../scripts/kafka-broker.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the real Kafka broker the suite started (KRaft, single node, from Maven Central jars). */
    kafkaBootstrap: string;
  }
}

/**
 * The suite runs against real servers: PostgreSQL (started if it is down, with the machine's service command) and
 * Apache Kafka (downloaded once from Maven Central into the user cache, then started on a free port).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await startPostgres();
  const broker = (await startKafkaBroker({ log: (m: string) => process.stderr.write(`kafka: ${m}\n`) })) as { bootstrap: string; stop: () => Promise<void> };
  project.provide('kafkaBootstrap', broker.bootstrap);
  return () => broker.stop();
}

async function startPostgres(): Promise<void> {
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
