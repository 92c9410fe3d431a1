import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';
import { openLog } from '../src/log/open.js';
import { runStream } from '../src/streams/worker.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
import { PG_URL, tempDir } from './support/helpers.js';

// The distributed set-up of docs/deploy.md: its compose file is valid for Compose (no Docker engine runs here, the
// file must still be right), and its project runs for real with the catalog on PostgreSQL, the log on Kafka and the
// lake on S3 (S3Mock) together — the environment the compose file gives every Tributary service.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMPOSE = path.join(ROOT, 'deploy/docker-compose.yml');
const { startS3Mock } = (await import(path.join(ROOT, 'scripts/s3mock.mjs'))) as {
  startS3Mock: (o: { buckets: string[] }) => Promise<{ endpoint: string; stop: () => Promise<void> }>;
};

/** `docker compose` when the plugin is there, else the standalone `docker-compose`. */
function compose(args: string[]) {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  return plugin.status === 0
    ? spawnSync('docker', ['compose', '-f', COMPOSE, ...args], { encoding: 'utf8' })
    : spawnSync('docker-compose', ['-f', COMPOSE, ...args], { encoding: 'utf8' });
}

describe('the distributed set-up', () => {
  it('docker compose accepts the compose file, with every part of the set-up', () => {
    const checked = compose(['config', '-q']);
    expect(checked.status, checked.stderr).toBe(0);
    const services = compose(['config', '--services']).stdout.trim().split('\n').sort();
    expect(services).toEqual(['api', 'grafana', 'kafka', 'minio', 'minio-init', 'postgres', 'prometheus', 'proxy', 'scheduler', 'stream', 'worker']);
    // Every Tributary service runs the same project with the same environment.
    const normalized = compose(['config']).stdout;
    for (const v of [
      'TRIBUTARY_CATALOG: postgres://',
      'TRIBUTARY_LOG: kafka://kafka:9092',
      'TRIBUTARY_LAKE: s3://lake/tributary',
      'S3_ENDPOINT: http://minio:9000',
    ])
      expect(normalized).toContain(v);
  });

  describe('its project on PostgreSQL, Kafka and S3 together', () => {
    let s3: Awaited<ReturnType<typeof startS3Mock>>;
    const env: Record<string, string | undefined> = {};
    beforeAll(async () => {
      s3 = await startS3Mock({ buckets: ['lake'] });
    }, 180_000);
    afterAll(async () => {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await s3?.stop();
    });

    it('ingests, streams exactly once and publishes Iceberg metadata to the bucket', { timeout: 300_000 }, async () => {
      const schema = `t_deploy_${process.pid}`;
      const settings = {
        TRIBUTARY_CATALOG: `${PG_URL}?schema=${schema}`,
        TRIBUTARY_LOG: `kafka://${inject('kafkaBootstrap')}`,
        TRIBUTARY_LAKE: `s3://lake/deploy-${process.pid}`,
        S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
      };
      for (const [k, v] of Object.entries(settings)) {
        env[k] = process.env[k];
        process.env[k] = v;
      }
      const dir = path.join(tempDir('trib-deploy-'), 'project');
      copyProjectFiles(path.join(ROOT, 'deploy/project'), dir);
      // The suite shares one Kafka broker: this run's topic and stream (hence consumer group) are its own.
      const unique = `deploy-${process.pid}`;
      const configFile = path.join(dir, 'tributary.config.mjs');
      writeFileSync(
        configFile,
        readFileSync(configFile, 'utf8')
          .replaceAll('ventes-temps-reel', `${unique}-ventes`)
          .replaceAll("'ventes-live'", `'${unique}'`)
          .replaceAll('stream:ventes-live', `stream:${unique}`),
      );
      mkdirSync(path.join(dir, 'data'), { recursive: true });
      writeFileSync(path.join(dir, 'data/ventes.csv'), 'id,pays,montant\n1,France,10.5\n2,Espagne,4\n3,France,1.5\n');
      const config = await loadConfig(dir);
      expect(config.catalog).toEqual({ kind: 'postgres', url: PG_URL, schema });
      expect(config.log.kind).toBe('kafka');
      expect(config.lakeLocation).toBe(settings.TRIBUTARY_LAKE);
      const lake = await Lake.open(config);
      try {
        expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 3 });
        const log = await openLog(config.log);
        try {
          await log.createTopic(`${unique}-ventes`, 3);
          const producer = await log.producer();
          const at = (m: number) => new Date(Date.UTC(2026, 0, 5, 10, m)).toISOString();
          const events = [
            { id: 'a', event_time: at(0), pays: 'France', montant: 10 },
            { id: 'b', event_time: at(0), pays: 'France', montant: 5 },
            { id: 'c', event_time: at(0), pays: 'Espagne', montant: 2 },
            { id: 'd', event_time: at(5), pays: 'France', montant: 1 },
          ];
          await producer.send(events.map((e) => ({ topic: `${unique}-ventes`, key: Buffer.from(e.pays), value: Buffer.from(JSON.stringify(e)) })));
          await producer.close();
        } finally {
          await log.close();
        }
        const report = await runStream(config, unique, { availableNow: true, lake });
        expect(report).toMatchObject({ records: 4, deadLetters: 0 });
        expect((await lake.query('SELECT pays, total_ventes, nb_transactions FROM gold.ventes_live_par_pays ORDER BY pays')).rows).toEqual([
          { pays: 'Espagne', total_ventes: 2, nb_transactions: 1n },
          { pays: 'France', total_ventes: 15, nb_transactions: 2n },
        ]);
        // A second run finds nothing new: exactly once across the three systems.
        expect(await runStream(config, unique, { availableNow: true, lake })).toMatchObject({ records: 0 });
        // The tables' data and Iceberg metadata are in the bucket.
        expect(await lake.storage.exists('gold/ventes_live_par_pays/metadata/version-hint.text')).toBe(true);
        expect(await lake.storage.exists('bronze/ventes/metadata/version-hint.text')).toBe(true);
      } finally {
        await lake.close();
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    });
  });
});
