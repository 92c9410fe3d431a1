import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';
import { currentStateSql, dropCdc } from '../src/sources/sql/cdc.js';
import { PostgresReader } from '../src/sources/sql/postgres.js';
import { ROOT, cli, tempDir } from './support/helpers.js';
import { openTestLake } from './support/project.js';
import { startPrivatePostgres } from './support/private-postgres.js';

// Change data capture needs `wal_level = logical`: a PostgreSQL of this test file's own runs with it, so that the
// machine's shared server keeps its settings (and other test files their connections).
let url: string;
let client: pg.Client;

beforeAll(async () => {
  const server = await startPrivatePostgres({ wal_level: 'logical' });
  url = server.url;
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE customers (id integer PRIMARY KEY, name text, balance numeric(12,2), tags text[], photo bytea, seen timestamptz)`);
  await client.query(`INSERT INTO customers VALUES (1, 'Ana', 10.50, '{a,b}', '\\x00ff', '2024-01-01 10:00:00+00'), (2, 'Bo', 0, NULL, NULL, NULL)`);
}, 120_000);
afterAll(async () => {
  await client?.end();
});

describe('sql source: change data capture, killed at random points', () => {
  it('after kill -9 trials while a writer changes rows, restart and drain: the current state equals the table exactly', { timeout: 240_000 }, async () => {
    await client.query(`CREATE TABLE kv (id integer PRIMARY KEY, v integer NOT NULL)`);
    await client.query(`INSERT INTO kv SELECT i, 0 FROM generate_series(1, 200) AS i`);
    const dir = tempDir('trib-cdc-');
    // The writer: small transactions of inserts, updates and deletes, as fast as they go, for the whole test.
    let writing = true;
    let transactions = 0;
    const writer = (async () => {
      const w = new pg.Client({ connectionString: url });
      await w.connect();
      let n = 0;
      while (writing) {
        n++;
        const id = 1 + ((n * 7919) % 400);
        await w.query('BEGIN');
        await w.query(`INSERT INTO kv VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = (kv.v + 1) % 1000003`, [id, n]);
        if (n % 3 === 0) await w.query(`UPDATE kv SET v = (v * 2) % 1000003 WHERE id = $1`, [1 + ((n * 31) % 400)]);
        if (n % 5 === 0) await w.query(`DELETE FROM kv WHERE id = $1`, [1 + ((n * 17) % 400)]);
        await w.query('COMMIT');
        transactions++;
      }
      await w.end();
    })();
    const trials = 8;
    for (let trial = 0; trial < trials; trial++) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/cdc-loop.ts'), dir, url], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      // Anywhere in its work: the first trial often during the snapshot, later ones between batches or mid-commit.
      await new Promise((r) => setTimeout(r, 100 + ((trial * 337) % 900)));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      expect(err, `trial ${trial}`).not.toMatch(/Error/);
    }
    writing = false;
    await writer;
    expect(transactions).toBeGreaterThan(50);
    // Restart and drain.
    const lake = await Lake.open(
      resolveConfig({ sources: { kv: { kind: 'sql', url, table: 'kv', into: 'bronze.kv_changes', disposition: 'cdc' } } }, dir, undefined),
    );
    try {
      // The killed runs had landed work of their own (the snapshot and batches of changes), not nothing.
      expect((await lake.catalog.history('bronze.kv_changes')).length).toBeGreaterThan(trials);
      await runIngest(lake);
      const current = (await lake.query(`SELECT id, v FROM (${currentStateSql('bronze.kv_changes', ['id'])}) ORDER BY id`)).rows;
      const source = (await client.query(`SELECT id, v FROM kv ORDER BY id`)).rows;
      expect(current).toEqual(source);
      // Every change landed once: no (commit, change) position twice.
      const twice = (
        await lake.query(`SELECT _commit_lsn, _lsn, count(*) AS n FROM bronze.kv_changes WHERE _op <> 'snapshot' GROUP BY ALL HAVING count(*) > 1`)
      ).rows;
      expect(twice).toEqual([]);
    } finally {
      await lake.close();
    }
  });
});

describe('tributary sources drop-slot', () => {
  it('drops a cdc source’s slot and publication from the CLI, and names a source that keeps none', { timeout: 120_000 }, async () => {
    await client.query(`CREATE TABLE notes (id integer PRIMARY KEY, body text)`);
    const dir = tempDir('trib-cdc-cli-');
    writeFileSync(
      path.join(dir, 'tributary.config.mjs'),
      `export default { sources: { notes: { kind: 'sql', url: '${url}', table: 'notes', into: 'bronze.notes', disposition: 'cdc' }, whole: { kind: 'sql', url: '${url}', table: 'notes', into: 'bronze.whole' } } };\n`,
    );
    const ingested = await cli(['ingest', 'notes', '--project', dir]);
    expect(ingested.code, ingested.stderr).toBe(0);
    expect((await client.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'tributary_notes'`)).rows).toHaveLength(1);
    const dropped = await cli(['sources', 'drop-slot', 'notes', '--project', dir]);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(dropped.stdout).toContain('dropped slot tributary_notes; publication tributary_notes dropped; notes will start over with a snapshot');
    expect((await client.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'tributary_notes'`)).rows).toHaveLength(0);
    const wrong = await cli(['sources', 'drop-slot', 'whole', '--project', dir]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('source "whole" is not a cdc source');
  });
});

describe('sql source: change data capture from PostgreSQL', () => {
  it('lands a consistent snapshot, then inserts, updates and deletes in commit order; the current state equals the table', { timeout: 120_000 }, async () => {
    const { lake } = await openTestLake({
      sources: {
        cust: { kind: 'sql', url, table: 'customers', into: 'bronze.customers_changes', disposition: 'cdc' },
        // The same table, with a mirror kept at its current state, committed with the changes.
        mirror: { kind: 'sql', url, table: 'customers', into: 'bronze.mirror_changes', disposition: 'cdc', current: 'bronze.customers_now' },
      },
    });
    const mirrored = async () => {
      const lakeRows = await lake.query(`SELECT id, name, CAST(balance AS VARCHAR) AS balance FROM bronze.customers_now ORDER BY id`);
      const pgRows = await client.query(`SELECT id, name, balance::text AS balance FROM customers ORDER BY id`);
      expect(lakeRows.rows).toEqual(pgRows.rows);
    };
    const first = await runIngest(lake, ['cust']);
    expect(first.sources[0]).toMatchObject({ rows: 2 });
    await runIngest(lake, ['mirror']);
    await mirrored();
    const slots = await client.query(`SELECT slot_name, plugin FROM pg_replication_slots WHERE slot_name = 'tributary_cust'`);
    expect(slots.rows).toEqual([{ slot_name: 'tributary_cust', plugin: 'pgoutput' }]);

    // Changes: an insert, updates (one twice in one transaction), a delete, and a row inserted then deleted.
    await client.query(`INSERT INTO customers VALUES (3, 'Cy', 3.25, '{c}', NULL, now())`);
    await client.query(`BEGIN; UPDATE customers SET balance = 11.00 WHERE id = 1; UPDATE customers SET name = 'Ana Maria' WHERE id = 1; COMMIT`);
    await client.query(`DELETE FROM customers WHERE id = 2`);
    await client.query(`INSERT INTO customers VALUES (4, 'Di', 1, NULL, NULL, NULL); DELETE FROM customers WHERE id = 4`);
    const second = await runIngest(lake);
    expect(second.sources[0]).toMatchObject({ rows: 6 });
    await mirrored();
    const ops = (await lake.query(`SELECT _op, id FROM bronze.customers_changes ORDER BY _commit_lsn, _lsn`)).rows;
    expect(ops).toEqual([
      { _op: 'snapshot', id: 1 },
      { _op: 'snapshot', id: 2 },
      { _op: 'insert', id: 3 },
      { _op: 'update', id: 1 },
      { _op: 'update', id: 1 },
      { _op: 'delete', id: 2 },
      { _op: 'insert', id: 4 },
      { _op: 'delete', id: 4 },
    ]);
    const current = await lake.query(
      `SELECT id, name, CAST(balance AS VARCHAR) AS balance, tags, hex(photo) AS photo FROM (${currentStateSql('bronze.customers_changes', ['id'])}) ORDER BY id`,
    );
    const source = await client.query(
      `SELECT id, name, balance::text AS balance, tags::text AS tags, upper(encode(photo, 'hex')) AS photo FROM customers ORDER BY id`,
    );
    expect(current.rows).toEqual(source.rows);
    // A column added between runs comes in with the changes after it.
    await client.query(`ALTER TABLE customers ADD COLUMN tier text`);
    await client.query(`UPDATE customers SET tier = 'gold' WHERE id = 1`);
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 1 });
    expect((await lake.query(`SELECT id, tier FROM (${currentStateSql('bronze.customers_changes', ['id'])}) ORDER BY id`)).rows).toEqual([
      { id: 1, tier: 'gold' },
      { id: 3, tier: null },
    ]);
    // A truncate and new rows in one transaction: the mirror holds the new rows only.
    await client.query(`BEGIN; TRUNCATE customers; INSERT INTO customers (id, name, balance) VALUES (7, 'Gus', 7); COMMIT`);
    await runIngest(lake, ['mirror']);
    await mirrored();
    await runIngest(lake, ['cust']);
    // Nothing new: nothing landed; the state is the last commit landed.
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 0 });
    expect((await lake.catalog.sourceStates.get('cust'))!.state).toMatchObject({ lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) });
  });

  it('drop-slot removes the slot and the publication and forgets the state; the next run starts over with a snapshot', { timeout: 120_000 }, async () => {
    await client.query(`CREATE TABLE events (id integer PRIMARY KEY, what text)`);
    const { lake } = await openTestLake({ sources: { ev: { kind: 'sql', url, table: 'events', into: 'bronze.events', disposition: 'cdc' } } });
    await runIngest(lake);
    await client.query(`INSERT INTO events VALUES (1, 'a'), (2, 'b')`);
    await runIngest(lake);
    expect((await lake.query(`SELECT _op, id FROM bronze.events ORDER BY id`)).rows).toEqual([
      { _op: 'insert', id: 1 },
      { _op: 'insert', id: 2 },
    ]);
    const reader = await PostgresReader.connect(url, 'sources.ev');
    try {
      const config = lake.config.sources.ev!;
      if (config.kind !== 'sql') throw new Error('unexpected');
      const dropped = await dropCdc({ lake, name: 'ev' }, config, reader);
      expect(dropped).toMatchObject({ slot: 'tributary_ev', publication: 'tributary_ev' });
    } finally {
      await reader.close();
    }
    expect((await client.query(`SELECT * FROM pg_publication WHERE pubname = 'tributary_ev'`)).rows).toEqual([]);
    expect((await client.query(`SELECT * FROM pg_replication_slots WHERE slot_name = 'tributary_ev'`)).rows).toEqual([]);
    expect(await lake.catalog.sourceStates.get('ev')).toBeUndefined();
    // The next run starts over: a new slot, a new snapshot replacing the table.
    await client.query(`INSERT INTO events VALUES (3, 'c')`);
    await runIngest(lake);
    expect((await lake.query(`SELECT _op, id FROM bronze.events ORDER BY id`)).rows).toEqual([
      { _op: 'snapshot', id: 1 },
      { _op: 'snapshot', id: 2 },
      { _op: 'snapshot', id: 3 },
    ]);
  });
});
