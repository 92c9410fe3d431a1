import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlTables } from '../src/config/define.js';
import type { TributaryConfig } from '../src/config/types.js';
import { resolveConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { sourceConnector } from '../src/sources/registry.js';
import { PG_URL, freePort } from './support/helpers.js';
import { openTestLake } from './support/project.js';

// The `sql` source against the machine's real PostgreSQL: a schema of this test file's own, dropped afterwards.
const schema = `t_sqlsrc_${process.pid}`;
const client = new pg.Client({ connectionString: PG_URL });

beforeAll(async () => {
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  await client.query(`CREATE TYPE ${schema}.mood AS ENUM ('happy', 'sad')`);
  await client.query(`CREATE TABLE ${schema}.everything (
    id integer PRIMARY KEY, small smallint, big bigint, amount numeric(12,2), loose numeric, ratio double precision, real4 real,
    flag boolean, label text, code char(3), day date, at timestamp, at_tz timestamptz, clock time, span interval,
    uid uuid, doc jsonb, raw bytea, tags text[], scores integer[], mood ${schema}.mood, cash money)`);
  await client.query(`INSERT INTO ${schema}.everything VALUES
    (1, -32768, 9007199254740993, 1234567890.12, 3.14159265358979, 0.1, 1.5, true, 'l''été, "quoted"', 'ABC', '2011-01-04',
     '2011-01-04 10:11:12.123456', '2011-01-04 10:11:12.5+02', '23:59:59.999999', '1 year 2 mons 3 days 04:05:06',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2], "b": null}', '\\x00ff10', '{"x", "y,z", NULL}', '{1,2,3}', 'sad', '12.34'),
    (2, NULL, NULL, NULL, NULL, 'NaN', NULL, false, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL)`);
  await client.query(`CREATE TABLE ${schema}.events (id integer PRIMARY KEY, at integer NOT NULL, what text)`);
});
afterAll(async () => {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const rows = async (lake: Awaited<ReturnType<typeof openTestLake>>['lake'], sql: string) => (await lake.query(sql)).rows;

describe('sql source: replace', () => {
  it('reads a whole table with its types, NULLs and text as they are, and a new run replaces the snapshot', async () => {
    const config: TributaryConfig = { sources: { every: { kind: 'sql', url: PG_URL, table: `${schema}.everything`, into: 'bronze.everything' } } };
    const { lake } = await openTestLake(config);
    const report = await runIngest(lake);
    expect(report.sources[0]).toMatchObject({ rows: 2, unit: 'batch' });
    const types = Object.fromEntries((await rows(lake, 'DESCRIBE bronze.everything')).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({
      id: 'INTEGER',
      small: 'SMALLINT',
      big: 'BIGINT',
      amount: 'DECIMAL(12,2)',
      loose: 'DECIMAL(38,9)',
      ratio: 'DOUBLE',
      real4: 'FLOAT',
      flag: 'BOOLEAN',
      label: 'VARCHAR',
      day: 'DATE',
      at: 'TIMESTAMP',
      at_tz: 'TIMESTAMP WITH TIME ZONE',
      clock: 'TIME',
      span: 'INTERVAL',
      uid: 'UUID',
      doc: 'JSON',
      raw: 'BLOB',
      tags: 'VARCHAR[]',
      scores: 'INTEGER[]',
      mood: 'VARCHAR',
      cash: 'DECIMAL(38,2)',
    });
    const [one, two] = await rows(
      lake,
      `SELECT id, small, CAST(big AS VARCHAR) AS big, CAST(amount AS VARCHAR) AS amount, CAST(loose AS VARCHAR) AS loose, ratio, flag, label, code,
              CAST(day AS VARCHAR) AS day, CAST("at" AS VARCHAR) AS at_text, CAST(epoch_ms(at_tz) AS DOUBLE) AS at_ms, CAST(clock AS VARCHAR) AS clock,
              span = INTERVAL 14 MONTH + INTERVAL 3 DAY + INTERVAL 14706 SECOND AS span_ok, CAST(uid AS VARCHAR) AS uid,
              doc->>'$.a[1]' AS doc_a1, hex(raw) AS raw, tags, scores, mood, CAST(cash AS VARCHAR) AS cash
         FROM bronze.everything ORDER BY id`,
    );
    expect(one).toMatchObject({
      id: 1,
      small: -32768,
      big: '9007199254740993',
      amount: '1234567890.12',
      loose: '3.141592654',
      ratio: 0.1,
      flag: true,
      label: 'l\'été, "quoted"',
      code: 'ABC',
      day: '2011-01-04',
      at_text: '2011-01-04 10:11:12.123456',
      at_ms: Date.parse('2011-01-04T08:11:12.500Z'),
      clock: '23:59:59.999999',
      span_ok: true,
      uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      doc_a1: '2',
      raw: '00FF10',
      tags: ['x', 'y,z', null],
      scores: [1, 2, 3],
      mood: 'sad',
      cash: '12.34',
    });
    // NULL stays NULL, the empty string stays empty, NaN stays NaN, an empty array stays empty.
    expect(two).toMatchObject({ id: 2, small: null, big: null, amount: null, flag: false, label: '', code: null, day: null, tags: [], scores: null });
    expect(Number.isNaN(two!.ratio)).toBe(true);
    // Lineage columns, as every source gives them.
    expect((await rows(lake, 'SELECT DISTINCT _source FROM bronze.everything'))[0]).toEqual({ _source: 'every' });

    await client.query(`DELETE FROM ${schema}.everything WHERE id = 2`);
    try {
      await runIngest(lake);
      expect(await rows(lake, 'SELECT id FROM bronze.everything')).toEqual([{ id: 1 }]);
      const history = await lake.catalog.history('bronze.everything');
      expect(history.map((s) => s.operation)).toEqual(['overwrite', 'overwrite']);
    } finally {
      await client.query(`INSERT INTO ${schema}.everything (id, flag, label, tags) VALUES (2, false, '', '{}')`);
    }
  });

  it('reads a query and a selection of columns', async () => {
    const { lake } = await openTestLake({
      sources: {
        q: { kind: 'sql', url: PG_URL, query: `SELECT id, amount * 2 AS doubled FROM ${schema}.everything WHERE amount IS NOT NULL`, into: 'bronze.q' },
        c: { kind: 'sql', url: PG_URL, table: `${schema}.everything`, columns: ['id', 'label'], into: 'bronze.c' },
      },
    });
    await runIngest(lake);
    expect(await rows(lake, 'SELECT id, CAST(doubled AS VARCHAR) AS doubled FROM bronze.q')).toEqual([{ id: 1, doubled: '2469135780.240000000' }]);
    expect((await rows(lake, 'DESCRIBE bronze.c')).map((r) => r.column_name)).toEqual(['id', 'label', '_ingested_at', '_source', '_batch_id']);
  });
});

describe('sql source: edge cases', () => {
  it('reads long binaries exactly, a query ending in a comment, and skips rows whose cursor is NULL', async () => {
    await client.query(`CREATE TABLE ${schema}.blobs (id integer PRIMARY KEY, raw bytea, at integer)`);
    await client.query(
      `INSERT INTO ${schema}.blobs SELECT i, decode(repeat('00ff10ab', 300), 'hex'), CASE WHEN i = 2 THEN NULL ELSE i END FROM generate_series(1, 3) AS i`,
    );
    const { lake } = await openTestLake({
      sources: {
        b: { kind: 'sql', url: PG_URL, table: `${schema}.blobs`, into: 'bronze.blobs' },
        q: { kind: 'sql', url: PG_URL, query: `SELECT id FROM ${schema}.blobs -- the ids`, into: 'bronze.blob_ids' },
        c: { kind: 'sql', url: PG_URL, table: `${schema}.blobs`, into: 'bronze.blobs_past', disposition: 'append', cursor: { column: 'at' } },
      },
    });
    await runIngest(lake);
    expect((await rows(lake, 'SELECT DISTINCT octet_length(raw) AS n, md5(raw) AS h FROM bronze.blobs'))[0]!.n).toBe(1200n);
    const [{ h }] = (await client.query(`SELECT DISTINCT md5(raw) AS h FROM ${schema}.blobs`)).rows;
    expect((await rows(lake, 'SELECT DISTINCT md5(raw) AS h FROM bronze.blobs'))[0]!.h).toBe(h);
    expect((await rows(lake, 'SELECT count(*) AS n FROM bronze.blob_ids'))[0]!.n).toBe(3n);
    // The row with a NULL cursor has no place past a cursor: not read, and nothing fails.
    expect((await rows(lake, 'SELECT id FROM bronze.blobs_past ORDER BY id')).map((r) => r.id)).toEqual([1, 3]);
  });

  it('masks a password holding "@", and refuses a float cursor', async () => {
    const { maskUrl } = await import('../src/sources/sql/reader.js');
    expect(maskUrl('postgres://u:p@ss@db.example:5432/shop')).toBe('postgres://u:***@db.example:5432/shop');
    await client.query(`CREATE TABLE ${schema}.floats (id integer PRIMARY KEY, score double precision)`);
    const { lake } = await openTestLake({
      sources: { f: { kind: 'sql', url: PG_URL, table: `${schema}.floats`, into: 'bronze.f', disposition: 'append', cursor: { column: 'score' } } },
    });
    await expect(runIngest(lake)).rejects.toThrow(/sources\.f\.cursor: "score" is double precision, which cannot order rows exactly as text/);
  });
});

describe('sqlTables', () => {
  it('declares one source per table, each into the layer under its name, with its own options on top', async () => {
    const sources = sqlTables(PG_URL, { [`${schema}.everything`]: {}, [`${schema}.events`]: { columns: ['id', 'what'] } }, { into: 'bronze', prefix: 'pg_' });
    expect(Object.keys(sources)).toEqual(['pg_everything', 'pg_events']);
    expect(sources.pg_events).toEqual({ kind: 'sql', url: PG_URL, table: `${schema}.events`, into: 'bronze.pg_events', columns: ['id', 'what'] });
    const { lake } = await openTestLake({ sources });
    const report = await runIngest(lake);
    expect(report.sources.map((s) => [s.source, s.table])).toEqual([
      ['pg_everything', 'bronze.pg_everything'],
      ['pg_events', 'bronze.pg_events'],
    ]);
    expect((await rows(lake, 'DESCRIBE bronze.pg_events')).map((r) => r.column_name).slice(0, 2)).toEqual(['id', 'what']);
  });
});

describe('sql source: append past a cursor', () => {
  it('reads rows past the cursor in batches; rows sharing a cursor value across batches are neither lost nor repeated', async () => {
    // 10 rows, cursor values with ties (three rows at 2, four at 5), read 3 at a time.
    const at = [1, 2, 2, 2, 3, 4, 5, 5, 5, 5];
    await client.query(`INSERT INTO ${schema}.events SELECT i, (ARRAY[${at.join(',')}])[i], 'e' || i FROM generate_series(1, 10) AS i`);
    const { lake } = await openTestLake({
      sources: {
        ev: { kind: 'sql', url: PG_URL, table: `${schema}.events`, into: 'bronze.events', disposition: 'append', cursor: { column: 'at' }, batchSize: 3 },
      },
    });
    const first = await runIngest(lake);
    expect(first.sources[0]).toMatchObject({ rows: 10 });
    expect(first.sources[0]!.ingested.map((b) => b.rows)).toEqual([3, 3, 3, 1]);
    const ids = async () => (await rows(lake, 'SELECT id FROM bronze.events ORDER BY id')).map((r) => r.id);
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ctx = { lake, name: 'ev' };
    const config = lake.config.sources.ev!;
    expect(await sourceConnector('sql').plan(ctx, config)).toMatchObject({ upToDate: true });

    // New rows, two of them at the last cursor value already read (5): the tie-breaker (the primary key) takes them.
    await client.query(`INSERT INTO ${schema}.events VALUES (11, 5, 'late tie'), (12, 5, 'late tie'), (13, 6, 'new')`);
    expect(await sourceConnector('sql').plan(ctx, config)).toMatchObject({ upToDate: false, summary: `3 row(s) of ${schema}.events past at 5` });
    const second = await runIngest(lake);
    expect(second.sources[0]).toMatchObject({ rows: 3 });
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // A run with nothing new commits nothing.
    const before = (await lake.catalog.getTable('bronze.events'))!.currentSnapshot;
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 0 });
    expect((await lake.catalog.getTable('bronze.events'))!.currentSnapshot).toBe(before);
    // The cursor is source state, committed with the rows.
    expect((await lake.catalog.sourceStates.get('ev'))!.state).toEqual({ last: ['6', '13'] });
  });

  it('adds a column the source gained; refuses a column whose type changed, unless the schema contract lets it in', async () => {
    await client.query(`CREATE TABLE ${schema}.evolving (id integer PRIMARY KEY, code text)`);
    await client.query(`INSERT INTO ${schema}.evolving VALUES (1, '10'), (2, '20')`);
    const source = { kind: 'sql', url: PG_URL, table: `${schema}.evolving`, into: 'bronze.evolving', disposition: 'append', cursor: { column: 'id' } } as const;
    const { lake } = await openTestLake({ sources: { evo: source } });
    await runIngest(lake);
    await client.query(`ALTER TABLE ${schema}.evolving ADD COLUMN note text`);
    await client.query(`INSERT INTO ${schema}.evolving VALUES (3, '30', 'new column')`);
    await runIngest(lake);
    expect(await rows(lake, 'SELECT id, code, note FROM bronze.evolving ORDER BY id')).toEqual([
      { id: 1, code: '10', note: null },
      { id: 2, code: '20', note: null },
      { id: 3, code: '30', note: 'new column' },
    ]);
    // The source narrows text to integers: the lake's text column holds them as they are, nothing to refuse.
    await client.query(`ALTER TABLE ${schema}.evolving ALTER COLUMN code TYPE integer USING code::integer`);
    await client.query(`INSERT INTO ${schema}.evolving VALUES (4, 40, NULL)`);
    await runIngest(lake);
    expect(await rows(lake, "SELECT column_type AS t FROM (DESCRIBE SELECT * FROM bronze.evolving) WHERE column_name = 'code'")).toEqual([{ t: 'VARCHAR' }]);
    // A number column becoming text is a type change: refused (types 'freeze' by default), nothing committed.
    await client.query(`ALTER TABLE ${schema}.evolving ADD COLUMN qty integer`);
    await client.query(`INSERT INTO ${schema}.evolving VALUES (5, 50, NULL, 5)`);
    await runIngest(lake);
    await client.query(`ALTER TABLE ${schema}.evolving ALTER COLUMN qty TYPE text`);
    await client.query(`INSERT INTO ${schema}.evolving VALUES (6, 60, NULL, '6'), (7, 70, NULL, 'seven')`);
    const snapshot = (await lake.catalog.getTable('bronze.evolving'))!.currentSnapshot;
    await expect(runIngest(lake)).rejects.toThrow(
      /sources\.evo: column qty is VARCHAR, but bronze\.evolving holds it as INTEGER \(schemaContract\.types is 'freeze' by default\); nothing committed/,
    );
    expect((await lake.catalog.getTable('bronze.evolving'))!.currentSnapshot).toBe(snapshot);
    // 'discard_row': values that fit the lake's type come in; the others are set aside with the reason; the cursor moves on.
    Object.assign(lake.config.sources.evo!, { schemaContract: { types: 'discard_row' } });
    const report = (await runIngest(lake)).sources[0]!;
    expect(report).toMatchObject({ rows: 1, rejectedRows: 1 });
    expect(await rows(lake, 'SELECT id, qty FROM bronze.evolving WHERE id >= 5 ORDER BY id')).toEqual([
      { id: 5, qty: 5 },
      { id: 6, qty: 6 },
    ]);
    const [reject] = await rows(lake, 'SELECT column_name, error_type, reason, raw_line, _source FROM bronze.evolving_rejects');
    expect(reject).toMatchObject({ column_name: 'qty', error_type: 'SCHEMA', _source: 'evo' });
    expect(String(reject!.reason)).toBe(
      "column qty: the value (VARCHAR) does not fit bronze.evolving's INTEGER (sources.evo.schemaContract.types is 'discard_row')",
    );
    expect(JSON.parse(String(reject!.raw_line))).toMatchObject({ id: 7, qty: 'seven' });
    expect((await lake.catalog.sourceStates.get('evo'))!.state).toEqual({ last: ['7'] });
    // The old setting is refused, saying what replaced it.
    expect(() => resolveConfig({ sources: { evo: { ...source, allowTypeChanges: true } } } as never, '/tmp', undefined)).toThrow(
      /sources\.evo\.allowTypeChanges: allowTypeChanges was replaced by schemaContract/,
    );
  });

  it('with a lookback, also reads rows committed late behind the cursor, once each', async () => {
    await client.query(`CREATE TABLE ${schema}.late (id integer PRIMARY KEY, at integer NOT NULL)`);
    await client.query(`INSERT INTO ${schema}.late SELECT i, i FROM generate_series(1, 5) AS i`);
    await client.query(`CREATE TABLE ${schema}.late_ts (id integer PRIMARY KEY, at timestamptz NOT NULL)`);
    await client.query(`INSERT INTO ${schema}.late_ts VALUES (1, '2024-01-01 10:00:00+00'), (2, '2024-01-01 10:05:00+00')`);
    const { lake } = await openTestLake({
      sources: {
        n: { kind: 'sql', url: PG_URL, table: `${schema}.late`, into: 'bronze.late', disposition: 'append', cursor: { column: 'at', lookback: 2 } },
        t: { kind: 'sql', url: PG_URL, table: `${schema}.late_ts`, into: 'bronze.late_ts', disposition: 'append', cursor: { column: 'at', lookback: '10m' } },
      },
    });
    await runIngest(lake);
    const ids = async (t: string) => (await rows(lake, `SELECT id FROM bronze.${t} ORDER BY id`)).map((r) => r.id);
    // Late rows: behind the last cursor value (5, and 10:05), within the lookback; one too old for it (at 1).
    await client.query(`INSERT INTO ${schema}.late VALUES (6, 4), (7, 1)`);
    await client.query(`INSERT INTO ${schema}.late_ts VALUES (3, '2024-01-01 09:58:00+00'), (4, '2024-01-01 09:40:00+00')`);
    const second = await runIngest(lake);
    expect(second.sources.map((r) => r.rows)).toEqual([1, 1]);
    expect(await ids('late')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await ids('late_ts')).toEqual([1, 2, 3]);
    // Again: the window holds nothing new, nothing is committed, nothing is read twice.
    const snapshot = (await lake.catalog.getTable('bronze.late'))!.currentSnapshot;
    expect((await runIngest(lake)).sources.map((r) => r.rows)).toEqual([0, 0]);
    expect((await lake.catalog.getTable('bronze.late'))!.currentSnapshot).toBe(snapshot);
    expect(await ids('late')).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('starts from an initial value', async () => {
    const { lake } = await openTestLake({
      sources: {
        ev: { kind: 'sql', url: PG_URL, table: `${schema}.events`, into: 'bronze.recent', disposition: 'append', cursor: { column: 'at', initial: 5 } },
      },
    });
    await runIngest(lake);
    expect((await rows(lake, 'SELECT min("at") AS lo, CAST(count(*) AS INTEGER) AS n FROM bronze.recent'))[0]).toEqual({ lo: 5, n: 7 });
  });
});

describe('sql source: merge on the primary key', () => {
  it('keeps the current row per key: updates replace, new rows join, soft-deleted rows leave; with a cursor only changed rows are read', async () => {
    await client.query(
      `CREATE TABLE ${schema}.customers (id integer PRIMARY KEY, name text, country text, deleted boolean NOT NULL DEFAULT false, version integer NOT NULL)`,
    );
    await client.query(`INSERT INTO ${schema}.customers VALUES (1, 'Ana', 'FR', false, 1), (2, 'Bo', 'DE', false, 1), (3, 'Cy', 'FR', false, 1)`);
    const { lake } = await openTestLake({
      sources: {
        full: { kind: 'sql', url: PG_URL, table: `${schema}.customers`, into: 'bronze.customers_full', disposition: 'merge', softDelete: 'deleted' },
        inc: {
          kind: 'sql',
          url: PG_URL,
          table: `${schema}.customers`,
          into: 'bronze.customers_inc',
          disposition: 'merge',
          softDelete: 'deleted',
          cursor: { column: 'version' },
        },
      },
    });
    const current = async (t: string) => rows(lake, `SELECT id, name, country FROM bronze.${t} ORDER BY id`);
    await runIngest(lake);
    for (const t of ['customers_full', 'customers_inc']) expect((await current(t)).map((r) => r.id)).toEqual([1, 2, 3]);

    // An update, a new customer, a soft delete, each moving the row's version forward.
    await client.query(`UPDATE ${schema}.customers SET name = 'Ana Maria', version = 2 WHERE id = 1`);
    await client.query(`INSERT INTO ${schema}.customers VALUES (4, 'Di', 'ES', false, 2)`);
    await client.query(`UPDATE ${schema}.customers SET deleted = true, version = 2 WHERE id = 2`);
    const report = await runIngest(lake);
    const expected = [
      { id: 1, name: 'Ana Maria', country: 'FR' },
      { id: 3, name: 'Cy', country: 'FR' },
      { id: 4, name: 'Di', country: 'ES' },
    ];
    expect(await current('customers_full')).toEqual(expected);
    expect(await current('customers_inc')).toEqual(expected);
    // The full merge read every row; the incremental one only the three that changed.
    expect(report.sources.map((r) => [r.source, r.rows])).toEqual([
      ['full', 4],
      ['inc', 3],
    ]);
    expect((await lake.catalog.history('bronze.customers_inc')).map((h) => h.operation)).toEqual(['merge', 'merge']);
    // Nothing past the cursor: nothing committed.
    const before = (await lake.catalog.getTable('bronze.customers_inc'))!.currentSnapshot;
    expect((await runIngest(lake, ['inc'])).sources[0]).toMatchObject({ rows: 0 });
    expect((await lake.catalog.getTable('bronze.customers_inc'))!.currentSnapshot).toBe(before);
  });

  it('names a table without a primary key, and options that belong to another disposition', async () => {
    const { resolveConfig } = await import('../src/config/load.js');
    expect(() =>
      resolveConfig({ sources: { s: { kind: 'sql', url: PG_URL, table: 'x', into: 'bronze.s', softDelete: 'deleted' } } } as never, '/tmp', undefined),
    ).toThrow(/sources\.s\.softDelete: softDelete is for disposition 'merge'/);
    await client.query(`CREATE TABLE ${schema}.nokey (a integer, b text)`);
    const { lake } = await openTestLake({
      sources: { nk: { kind: 'sql', url: PG_URL, table: `${schema}.nokey`, into: 'bronze.nokey', disposition: 'merge' } },
    });
    await expect(runIngest(lake)).rejects.toThrow(/sources\.nk\.primaryKey: t_sqlsrc_\d+\.nokey has no primary key/);
  });
});

describe('sql source: bad input and faults', () => {
  it('validates its config: table or query, a cursor for append', async () => {
    const { resolveConfig } = await import('../src/config/load.js');
    expect(() => resolveConfig({ sources: { s: { kind: 'sql', url: PG_URL, into: 'bronze.s' } } } as never, '/tmp', undefined)).toThrow(
      /sources\.s\.table: give either table or query/,
    );
    expect(() =>
      resolveConfig({ sources: { s: { kind: 'sql', url: PG_URL, table: 'x', into: 'bronze.s', disposition: 'append' } } } as never, '/tmp', undefined),
    ).toThrow(/sources\.s\.cursor: disposition 'append' reads past a cursor/);
  });

  it('names an unknown table and an unknown column', async () => {
    const { lake } = await openTestLake({
      sources: {
        t: { kind: 'sql', url: PG_URL, table: `${schema}.nope`, into: 'bronze.t' },
        c: { kind: 'sql', url: PG_URL, table: `${schema}.events`, columns: ['id', 'nope'], into: 'bronze.c' },
      },
    });
    await expect(runIngest(lake, ['t'])).rejects.toThrow(/sources\.t: relation "t_sqlsrc_\d+\.nope" does not exist/);
    await expect(runIngest(lake, ['c'])).rejects.toThrow(/sources\.c: column "nope" does not exist/);
    expect(await lake.catalog.getTable('bronze.t')).toBeUndefined();
  });

  it('a connection lost mid-run commits nothing half-read; the next run resumes after the last committed batch', { timeout: 120_000 }, async () => {
    await client.query(`CREATE TABLE ${schema}.big (id integer PRIMARY KEY, at integer NOT NULL, pad text)`);
    await client.query(`INSERT INTO ${schema}.big SELECT i, i / 7, repeat('x', 40) FROM generate_series(1, 400000) AS i`);
    const { lake } = await openTestLake({
      sources: {
        bigsrc: { kind: 'sql', url: PG_URL, table: `${schema}.big`, into: 'bronze.big', disposition: 'append', cursor: { column: 'at' }, batchSize: 20_000 },
      },
    });
    const running = runIngest(lake).then(
      () => undefined,
      (err: unknown) => err as { code: string; message: string },
    );
    // Once a first batch is committed, the server ends the source's connection (as a restart or a network cut would).
    for (let i = 0; i < 600 && !(await lake.catalog.sourceStates.get('bigsrc')); i++) await new Promise((r) => setTimeout(r, 20));
    await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tributary sources.bigsrc'`);
    const failure = await running;
    expect(failure).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(failure!.message).toMatch(/sources\.bigsrc: PostgreSQL failed/);
    // What is in the table is exactly the committed batches: whole batches, no row twice.
    const partial = (await rows(lake, 'SELECT CAST(count(*) AS INTEGER) AS n, CAST(count(DISTINCT id) AS INTEGER) AS d FROM bronze.big'))[0]!;
    expect(partial.n).toBe(partial.d);
    expect(Number(partial.n) % 20_000).toBe(0);
    expect(partial.n).toBeLessThan(400_000);
    // The next run reads from there: every row once.
    await runIngest(lake);
    expect((await rows(lake, 'SELECT CAST(count(*) AS INTEGER) AS n, CAST(count(DISTINCT id) AS INTEGER) AS d FROM bronze.big'))[0]).toEqual({
      n: 400_000,
      d: 400_000,
    });
  });

  it('refuses a row longer than maxRowBytes, quoted or not, naming the setting; nothing is committed', async () => {
    await client.query(`CREATE TABLE ${schema}.wide (id integer PRIMARY KEY, body text)`);
    // One value the CSV writes bare, one it quotes (it holds a comma): DuckDB would skip the first silently.
    await client.query(`INSERT INTO ${schema}.wide VALUES (1, repeat('x', 100000)), (2, 'short')`);
    await client.query(`CREATE TABLE ${schema}.wide_single (id integer PRIMARY KEY, body text)`);
    await client.query(`INSERT INTO ${schema}.wide_single VALUES (1, repeat('x', 100000))`);
    await client.query(`CREATE TABLE ${schema}.wide_quoted (id integer PRIMARY KEY, body text)`);
    await client.query(`INSERT INTO ${schema}.wide_quoted VALUES (1, repeat('a,b', 40000))`);
    const { lake } = await openTestLake({
      sources: {
        wide: { kind: 'sql', url: PG_URL, table: `${schema}.wide`, into: 'bronze.wide', maxRowBytes: 2048 },
        single: { kind: 'sql', url: PG_URL, table: `${schema}.wide_single`, into: 'bronze.wide_single', maxRowBytes: 2048 },
        quoted: { kind: 'sql', url: PG_URL, table: `${schema}.wide_quoted`, into: 'bronze.wide_quoted', maxRowBytes: 2048 },
        appended: {
          kind: 'sql',
          url: PG_URL,
          table: `${schema}.wide`,
          into: 'bronze.wide_appended',
          maxRowBytes: 2048,
          disposition: 'append',
          cursor: { column: 'id' },
        },
      },
    });
    await expect(runIngest(lake, ['wide'])).rejects.toThrow(/sources\.wide: .*maxRowBytes \(2048 bytes as text\)/);
    // The row DuckDB skips without a word: counted on both sides, the difference refuses the commit.
    await expect(runIngest(lake, ['single'])).rejects.toThrow(/sources\.single: 1 row\(s\) read from t_sqlsrc_\d+\.wide_single but 0 parsed/);
    await expect(runIngest(lake, ['quoted'])).rejects.toThrow(
      /sources\.quoted: the rows of t_sqlsrc_\d+\.wide_quoted could not be read back .*maxRowBytes \(2048/,
    );
    await expect(runIngest(lake, ['appended'])).rejects.toThrow(/sources\.appended: .*maxRowBytes \(2048 bytes as text\)/);
    for (const t of ['bronze.wide', 'bronze.wide_single', 'bronze.wide_quoted', 'bronze.wide_appended'])
      expect(await lake.catalog.getTable(t), t).toBeUndefined();
    Object.assign(lake.config.sources.wide!, { maxRowBytes: 200_000 });
    await runIngest(lake, ['wide']);
    expect(await rows(lake, 'SELECT id, length(body) AS n FROM bronze.wide ORDER BY id')).toEqual([
      { id: 1, n: 100000n },
      { id: 2, n: 5n },
    ]);
  });

  it('names a server that is down by host and port, never printing the password', async () => {
    const port = await freePort();
    const url = `postgres://reader:s3cret@127.0.0.1:${port}/shop`;
    const { lake } = await openTestLake({ sources: { down: { kind: 'sql', url, table: 'orders', into: 'bronze.down' } } });
    const failure = await runIngest(lake).then(
      () => undefined,
      (err: unknown) => err as { code: string; message: string; hint?: string },
    );
    expect(failure).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(failure!.message).toMatch(new RegExp(`sources\\.down: cannot read PostgreSQL at 127\\.0\\.0\\.1:${port} \\(database shop\\)`));
    expect(`${failure!.message} ${failure!.hint}`).not.toContain('s3cret');
    expect(failure!.hint).toContain(`postgres://reader:***@127.0.0.1:${port}/shop`);
    expect(await lake.catalog.getTable('bronze.down')).toBeUndefined();
  });
});
