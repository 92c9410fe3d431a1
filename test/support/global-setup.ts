import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import mariadb from 'mariadb';
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
  provisionSystemPackages();
  await startPostgres();
  await startMariaDb();
  const broker = (await startKafkaBroker({ log: (m: string) => process.stderr.write(`kafka: ${m}\n`) })) as { bootstrap: string; stop: () => Promise<void> };
  project.provide('kafkaBootstrap', broker.bootstrap);
  return () => broker.stop();
}

/** What the suite runs that comes from the system: a browser, a Prometheus server, a JVM and Maven for Kafka. */
const SYSTEM_PACKAGES: { what: string; present: () => boolean; debian: string[] }[] = [
  { what: 'Chromium (the dashboard tests)', present: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'), debian: ['chromium'] },
  { what: 'Prometheus (the metrics tests)', present: () => onPath('prometheus'), debian: ['prometheus'] },
  {
    what: 'Java, its compiler and Maven (the Kafka broker, S3Mock, Spark)',
    present: () => onPath('java') && onPath('javac') && onPath('mvn'),
    debian: ['openjdk-17-jdk-headless', 'maven'],
  },
  {
    what: 'Docker Compose (the deploy file is validated; no engine needed)',
    present: () => spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0 || onPath('docker-compose'),
    debian: ['docker-compose'],
  },
  {
    what: "Apache Avro's Python library (the Avro interoperability tests)",
    present: () => spawnSync('/usr/bin/python3', ['-c', 'import avro.io'], { stdio: 'ignore' }).status === 0,
    debian: ['python3-avro'],
  },
];

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs what is missing when it can (root and apt-get, as on CI and this project's machines); otherwise stops at
 * once with the one command to run, instead of a wall of failing tests.
 */
function provisionSystemPackages(): void {
  const missing = SYSTEM_PACKAGES.filter((p) => !p.present());
  if (missing.length === 0) return;
  const packages = missing.flatMap((p) => p.debian);
  const canInstall = process.getuid?.() === 0 && onPath('apt-get');
  if (canInstall) {
    process.stderr.write(`test setup: installing ${packages.join(', ')} with apt-get (${missing.map((p) => p.what).join('; ')})\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execSync('apt-get update -qq', { stdio: 'inherit', env });
    execSync(`apt-get install -y -qq ${packages.join(' ')}`, { stdio: ['ignore', 'ignore', 'inherit'], env });
    const still = SYSTEM_PACKAGES.filter((p) => !p.present());
    if (still.length === 0) return;
    missing.splice(0, missing.length, ...still);
  }
  throw new Error(
    `the test suite needs ${missing.map((p) => p.what).join(', ')}: install ${missing.length > 1 ? 'them' : 'it'} with\n  sudo apt-get install ${missing.flatMap((p) => p.debian).join(' ')}\n(or set CHROMIUM_PATH to a Chromium binary)`,
  );
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

/** MariaDB on 127.0.0.1:3306 (root, no password) for the `sql` source's MySQL tests, started as the machine starts it. */
async function startMariaDb(): Promise<void> {
  const up = async () => {
    try {
      const conn = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', connectTimeout: 1000 });
      await conn.end();
      return true;
    } catch {
      return false;
    }
  };
  if (await up()) return;
  try {
    execSync('start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd', { stdio: 'inherit' });
  } catch (err) {
    throw new Error(`MariaDB is not running on 127.0.0.1:3306 and could not be started: ${(err as Error).message}`);
  }
  for (let i = 0; i < 100; i++) {
    if (await up()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('MariaDB did not come up on 127.0.0.1:3306');
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
