import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { ResolvedConfig } from '../src/config/types.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';
import { runModels } from '../src/models/run.js';
import { buildServer } from '../src/serve/server.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
import { cli, PG_URL, startCli, tempDir } from './support/helpers.js';

// The lake on an S3-compatible server (Adobe's S3Mock, a real server the harness starts): the online-retail example
// ingested, built, compacted, vacuumed and served from `s3://lake/…` gives what the same project gives on local
// disk; every object is one the catalog knows; reads come from the server (a fresh cache downloads, a tiny cache
// evicts and still answers).
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
interface S3Mock {
  endpoint: string;
  port: number;
  root: string;
  stop: (o?: { keep?: boolean }) => Promise<void>;
}
const { startS3Mock } = (await import(path.join(ROOT, 'scripts/s3mock.mjs'))) as {
  startS3Mock: (o: { buckets: string[]; port?: number; root?: string }) => Promise<S3Mock>;
};

let s3: S3Mock;
beforeAll(async () => {
  s3 = await startS3Mock({ buckets: ['lake'] });
}, 180_000);
afterAll(async () => s3?.stop());

const GOLD = ['gold.retail_revenue_by_country', 'gold.retail_revenue_by_month', 'gold.retail_rfm'];

async function onS3(dir: string, prefix: string, extra: Record<string, unknown> = {}): Promise<ResolvedConfig> {
  const config = await loadConfig(dir);
  const lakePath = path.join(dir, '.tributary', 'lake');
  return Object.assign(config, {
    lakeLocation: `s3://lake/${prefix}`,
    lakePath,
    catalog: { kind: 'embedded' as const, path: path.join(lakePath, '_catalog', 'catalog.duckdb') },
    storageOptions: { endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'test', secretAccessKey: 'test', ...extra },
  });
}

async function table(lake: Lake, name: string) {
  return (await lake.query(`SELECT * FROM ${name} ORDER BY ALL`)).rows;
}

async function objects(lake: Lake, prefix = ''): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const o of lake.storage.list(prefix)) out.set(o.key, o.sizeBytes);
  return out;
}

function folderBytes(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else n += statSync(p).size;
    }
  };
  try {
    walk(dir);
  } catch {
    return 0;
  }
  return n;
}

describe('a lake on S3-compatible storage', () => {
  it('ingests, builds, compacts, vacuums and serves as on local disk; every object is the catalog’s', { timeout: 300_000 }, async () => {
    const local = path.join(tempDir('trib-s3-local-'), 'online-retail');
    copyProjectFiles(path.join(ROOT, 'examples/online-retail'), local);
    const reference = await Lake.open(await loadConfig(local));
    await runIngest(reference);
    await runModels(reference, {});

    const dir = path.join(tempDir('trib-s3-'), 'online-retail');
    copyProjectFiles(path.join(ROOT, 'examples/online-retail'), dir);
    const lake = await Lake.open(await onS3(dir, 'online-retail'));
    try {
      expect(lake.storage.root).toBe('s3://lake/online-retail');
      const ingested = await runIngest(lake);
      expect(ingested.sources[0]!.rows).toBe(Number((await reference.query('SELECT count(*) AS n FROM bronze.online_retail')).rows[0]!.n));
      await runModels(lake, {});
      for (const t of GOLD) expect(await table(lake, t), t).toEqual(await table(reference, t));

      // The data and the Iceberg metadata are objects in the bucket, under the prefix.
      const stored = await objects(lake);
      const known = await lake.catalog.knownFilePaths();
      expect([...known].every((k) => stored.has(k))).toBe(true);
      expect(stored.has('gold/retail_rfm/metadata/version-hint.text')).toBe(true);

      // Compaction and vacuum: expired and replaced files are deleted from the bucket, nothing the catalog needs.
      await lake.compact('bronze.online_retail');
      await runModels(lake, { fullRefresh: true });
      const report = await lake.vacuum({ snapshotDays: 0, keepLast: 1, orphanMinutes: 0 });
      expect(report.deletedFiles).toBeGreaterThan(0);
      const after = await objects(lake);
      const live = await lake.catalog.knownFilePaths();
      const dataObjects = [...after.keys()].filter((k) => /\/data\//.test(k));
      expect(dataObjects.sort()).toEqual([...live].sort());
      for (const t of GOLD) expect(await table(lake, t), `${t} after vacuum`).toEqual(await table(reference, t));

      // Served from the bucket.
      const { app } = await buildServer(lake);
      try {
        const res = await app.inject({ url: '/api/v1/tables/gold/retail_revenue_by_country?limit=1000' });
        expect(res.statusCode).toBe(200);
        expect((res.json() as { rows: unknown[] }).rows.length).toBe((await table(reference, 'gold.retail_revenue_by_country')).length);
      } finally {
        await app.close();
      }
    } finally {
      await lake.close();
      await reference.close();
    }

    // Another process with an empty cache reads from the server; with a tiny cache it evicts and still answers.
    rmSync(path.join(dir, '.tributary', 'lake', '_s3', 'cache'), { recursive: true, force: true });
    const tiny = await Lake.open(await onS3(dir, 'online-retail', { cacheMB: 0.05 }));
    const again = await Lake.open(await loadConfig(local));
    try {
      for (const t of [...GOLD, 'silver.retail_sales']) {
        const got = await tiny.query(`SELECT count(*) AS n FROM ${t}`);
        expect(got.rows, t).toEqual((await again.query(`SELECT count(*) AS n FROM ${t}`)).rows);
      }
      // The cache stays near its bound: the files of the last read, not the whole lake.
      const lakeBytes = [...(await objects(tiny)).entries()].filter(([k]) => /\/data\//.test(k)).reduce((n, [, s]) => n + s, 0);
      expect(folderBytes(path.join(dir, '.tributary', 'lake', '_s3', 'cache'))).toBeLessThan(lakeBytes);
    } finally {
      await tiny.close();
      await again.close();
    }
  });

  it('an outage: the run fails naming the bucket, nothing is committed, and the next run after it lands everything once', { timeout: 300_000 }, async () => {
    const dir = path.join(tempDir('trib-s3-outage-'), 'online-retail');
    copyProjectFiles(path.join(ROOT, 'examples/online-retail'), dir);
    const config = await onS3(dir, 'outage');
    const lake = await Lake.open(config);
    try {
      await s3.stop({ keep: true });
      await expect(runIngest(lake)).rejects.toThrow(/s3:\/\/lake\/outage/);
      expect(await lake.catalog.getTable('bronze.online_retail')).toBeUndefined();
      s3 = await startS3Mock({ buckets: ['lake'], port: s3.port, root: s3.root });
      const report = await runIngest(lake);
      expect(report.sources[0]!.ingested.length).toBe(3);
      const rowsNow = Number((await lake.query('SELECT count(*) AS n FROM bronze.online_retail')).rows[0]!.n);
      expect(rowsNow).toBe(report.sources[0]!.rows);
      // Idempotent: the files are known, nothing is read again.
      expect((await runIngest(lake)).sources[0]).toMatchObject({ unchanged: 3, rows: 0 });
    } finally {
      await lake.close();
    }
  });

  it('an outage in the middle of the uploads: what was committed is whole, the rest lands once on the next run', { timeout: 300_000 }, async () => {
    // A real TCP path to the server that is cut after some traffic: uploads in flight fail mid-body.
    // A few KB: past the in-flight marker, inside the first Parquet file's body.
    let budget = 6_000;
    let cut = false;
    const sockets = new Set<net.Socket>();
    const target = new URL(s3.endpoint);
    const proxy = net.createServer((client) => {
      if (cut) return client.destroy();
      const upstream = net.connect(Number(target.port), target.hostname);
      sockets.add(client).add(upstream);
      client.on('data', (d) => {
        budget -= d.length;
        if (budget < 0 && !cut) {
          cut = true;
          for (const sock of sockets) sock.destroy();
        }
      });
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop);
      upstream.on('error', drop);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    try {
      const dir = path.join(tempDir('trib-s3-cut-'), 'online-retail');
      copyProjectFiles(path.join(ROOT, 'examples/online-retail'), dir);
      const config = await onS3(dir, 'cut', { endpoint });
      const lake = await Lake.open(config);
      try {
        await expect(runIngest(lake)).rejects.toThrow(/s3:\/\/lake\/cut/);
        expect(cut).toBe(true);
        cut = false;
        budget = Number.POSITIVE_INFINITY;
        // Whatever was committed before the cut is whole: every file the catalog knows is in the bucket.
        const known = await lake.catalog.knownFilePaths();
        const stored = await objects(lake);
        expect([...known].every((k) => stored.has(k))).toBe(true);
        const report = await runIngest(lake);
        const total = Number((await lake.query('SELECT count(*) AS n FROM bronze.online_retail')).rows[0]!.n);
        const reference = path.join(tempDir('trib-s3-cut-ref-'), 'online-retail');
        copyProjectFiles(path.join(ROOT, 'examples/online-retail'), reference);
        const local = await Lake.open(await loadConfig(reference));
        try {
          await runIngest(local);
          expect(total).toBe(Number((await local.query('SELECT count(*) AS n FROM bronze.online_retail')).rows[0]!.n));
        } finally {
          await local.close();
        }
        expect(report.sources[0]!.ingested.length + report.sources[0]!.unchanged).toBe(3);
      } finally {
        await lake.close();
      }
    } finally {
      proxy.close();
      for (const sock of sockets) sock.destroy();
    }
  });

  it('kill -9 during a multipart upload: no object appears, the dead staging is removed, the next run lands the file once', { timeout: 300_000 }, async () => {
    // A file whose Parquet is over the 16 MiB multipart threshold (random hex does not compress much).
    const dir = tempDir('trib-s3-kill-');
    mkdirSync(path.join(dir, 'data'));
    const lines = ['id,token'];
    for (let i = 0; i < 900_000; i++) lines.push(`${i},${randomBytes(16).toString('hex')}`);
    writeFileSync(path.join(dir, 'data/big.csv'), `${lines.join('\n')}\n`);
    // The path to the server is counted: the writer is killed once 6 MB of the upload went through.
    let sent = 0;
    let onSent: (() => void) | undefined;
    const target = new URL(s3.endpoint);
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      sockets.add(client).add(upstream);
      client.on('data', (d) => {
        sent += d.length;
        if (sent > 6_000_000) onSent?.();
      });
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const storage = { endpoint, forcePathStyle: true, accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' };
    writeFileSync(
      path.join(dir, 'tributary.config.mjs'),
      `export default ${JSON.stringify({ lake: { path: 's3://lake/kill', storage }, sources: { big: { kind: 'files', glob: 'data/*.csv', into: 'bronze.big' } } })};\n`,
    );
    try {
      const run = startCli(['ingest', '--project', dir]);
      await new Promise<void>((resolve) => {
        onSent = resolve;
      });
      run.child.kill('SIGKILL');
      await run.exited;
      const staging = path.join(dir, '.tributary', 'lake', '_s3', 'staging', String(run.child.pid));
      expect(existsSync(staging)).toBe(true);
      // Nothing of the killed write is visible: no data object, no table.
      const lake = await Lake.open(await loadConfig(dir));
      try {
        const visible = [...(await objects(lake)).keys()].filter((k) => /\/data\//.test(k));
        expect(visible).toEqual([]);
        expect(await lake.catalog.getTable('bronze.big')).toBeUndefined();
        // Opening the lake removed the dead process's staging folder.
        expect(existsSync(staging)).toBe(false);
      } finally {
        await lake.close();
      }
      const again = await cli(['ingest', '--project', dir]);
      expect(again.code, again.stderr).toBe(0);
      const lake2 = await Lake.open(await loadConfig(dir));
      try {
        expect(Number((await lake2.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM bronze.big')).rows[0]!.ids)).toBe(900_000);
        const files = (await lake2.catalog.resolveSnapshot('bronze.big'))!.files;
        expect(files.some((f) => f.sizeBytes > 16 * 1024 * 1024)).toBe(true);
      } finally {
        await lake2.close();
      }
    } finally {
      proxy.close();
      for (const sock of sockets) sock.destroy();
    }
  });

  it('a database source on S3: rows past a cursor land once per run, merged by key', { timeout: 120_000 }, async () => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const schema = `t_s3sql_${process.pid}`;
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`CREATE TABLE ${schema}.orders (id integer PRIMARY KEY, amount numeric(10,2), updated integer NOT NULL)`);
      await client.query(`INSERT INTO ${schema}.orders SELECT i, i * 1.5, i FROM generate_series(1, 500) AS i`);
      const dir = tempDir('trib-s3-sql-');
      writeFileSync(path.join(dir, 'tributary.config.mjs'), 'export default {};\n');
      const config = Object.assign(await onS3(dir, 'sql'), {});
      config.sources = {
        orders: { kind: 'sql', url: PG_URL, table: `${schema}.orders`, into: 'bronze.orders', disposition: 'append', cursor: { column: 'updated' } },
        current: { kind: 'sql', url: PG_URL, table: `${schema}.orders`, into: 'bronze.orders_current', disposition: 'merge' },
      } as never;
      const lake = await Lake.open(config);
      try {
        await runIngest(lake);
        await client.query(`INSERT INTO ${schema}.orders SELECT i, i * 1.5, i FROM generate_series(501, 600) AS i`);
        await client.query(`UPDATE ${schema}.orders SET amount = 0, updated = 700 WHERE id = 1`);
        await runIngest(lake);
        const counts = (
          await lake.query(
            'SELECT (SELECT count(*) FROM bronze.orders) AS appended, (SELECT count(*) FROM bronze.orders_current) AS merged, (SELECT amount FROM bronze.orders_current WHERE id = 1) AS one',
          )
        ).rows[0]!;
        expect({ appended: Number(counts.appended), merged: Number(counts.merged), one: Number(counts.one) }).toEqual({ appended: 601, merged: 600, one: 0 });
        const stored = await objects(lake);
        expect([...(await lake.catalog.knownFilePaths())].every((k) => stored.has(k))).toBe(true);
      } finally {
        await lake.close();
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });

  it('names a bad setting', async () => {
    const dir = tempDir('trib-s3-bad-');
    const bad = Object.assign(await loadConfigFor(dir), {
      lakeLocation: 's3://lake/x',
      lakePath: path.join(dir, '.tributary', 'lake'),
      storageOptions: { endpoint: 'not a url' },
    });
    await expect(Lake.open(bad)).rejects.toThrow(/lake\.storage\.endpoint: Invalid URL/);
  });
});

async function loadConfigFor(dir: string): Promise<ResolvedConfig> {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'tributary.config.mjs'), 'export default {};\n');
  return loadConfig(dir);
}
