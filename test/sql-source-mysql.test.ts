import mariadb, { type Connection } from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest } from '../src/ingest/run.js';
import { freePort } from './support/helpers.js';
import { openTestLake } from './support/project.js';

// The `sql` source against the machine's real MariaDB (root, no password): a database of this test file's own.
const db = `t_sqlsrc_${process.pid}`;
const URL = `mariadb://root@127.0.0.1:3306/${db}`;
let conn: Connection;

beforeAll(async () => {
  conn = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  await conn.query(`DROP DATABASE IF EXISTS ${db}`);
  await conn.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
  await conn.query(`USE ${db}`);
  // Zero dates are what old MySQL applications write: allowed for this session's inserts.
  await conn.query(`SET SESSION sql_mode = ''`);
  // Inserted in another zone than UTC: the source reads TIMESTAMP columns as instants whatever the sessions' zones.
  await conn.query(`SET time_zone = '+02:00'`);
  await conn.query(`CREATE TABLE everything (
    id INT PRIMARY KEY, flag TINYINT(1), tiny TINYINT, utiny TINYINT UNSIGNED, small SMALLINT, med MEDIUMINT, uint INT UNSIGNED,
    big BIGINT, ubig BIGINT UNSIGNED, amount DECIMAL(12,2), ratio DOUBLE, f FLOAT, bits BIT(8), label VARCHAR(50), body TEXT,
    kind ENUM('a','b'), day DATE, at DATETIME(6), stamp TIMESTAMP(3) NULL, clock TIME, yr YEAR, raw VARBINARY(10), doc LONGTEXT)`);
  await conn.query(`INSERT INTO everything VALUES
    (1, 1, -128, 255, -32768, 8388607, 4294967295, -9223372036854775808, 18446744073709551615, 1234567890.12, 0.1, 1.5, b'10100101',
     'l''été, "quoted"', 'line\\nbreak', 'b', '2011-01-04', '2011-01-04 10:11:12.123456', '2011-01-04 12:11:12.500', '23:59:59', 2011,
     X'00FF10', '{"a": 1}'),
    (2, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, '0000-00-00', '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL)`);
  await conn.query(`CREATE TABLE events (id INT PRIMARY KEY, at INT NOT NULL, what VARCHAR(20))`);
});
afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS ${db}`);
  await conn.end();
});

const rows = async (lake: Awaited<ReturnType<typeof openTestLake>>['lake'], sql: string) => (await lake.query(sql)).rows;

describe('sql source on MySQL/MariaDB', () => {
  it('reads a table with its types: booleans, unsigned integers, decimals, times, zero dates, binary, NULL and empty text', async () => {
    const { lake } = await openTestLake({ sources: { every: { kind: 'sql', url: URL, table: 'everything', into: 'bronze.everything' } } });
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 2 });
    const types = Object.fromEntries((await rows(lake, 'DESCRIBE bronze.everything')).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({
      id: 'INTEGER',
      flag: 'BOOLEAN',
      tiny: 'TINYINT',
      utiny: 'UTINYINT',
      small: 'SMALLINT',
      med: 'INTEGER',
      uint: 'UINTEGER',
      big: 'BIGINT',
      ubig: 'UBIGINT',
      amount: 'DECIMAL(12,2)',
      ratio: 'DOUBLE',
      f: 'FLOAT',
      bits: 'UBIGINT',
      label: 'VARCHAR',
      kind: 'VARCHAR',
      day: 'DATE',
      at: 'TIMESTAMP',
      stamp: 'TIMESTAMP WITH TIME ZONE',
      clock: 'TIME',
      yr: 'SMALLINT',
      raw: 'BLOB',
      doc: 'VARCHAR',
    });
    const [one, two] = await rows(
      lake,
      `SELECT id, flag, tiny, utiny, CAST(uint AS VARCHAR) AS uint, CAST(big AS VARCHAR) AS big, CAST(ubig AS VARCHAR) AS ubig,
              CAST(amount AS VARCHAR) AS amount, ratio, CAST(bits AS INTEGER) AS bits, label, body, kind, CAST(day AS VARCHAR) AS day,
              CAST("at" AS VARCHAR) AS at_text, CAST(epoch_ms(stamp) AS DOUBLE) AS stamp_ms, CAST(clock AS VARCHAR) AS clock, yr, hex(raw) AS raw, doc
         FROM bronze.everything ORDER BY id`,
    );
    expect(one).toEqual({
      id: 1,
      flag: true,
      tiny: -128,
      utiny: 255,
      uint: '4294967295',
      big: '-9223372036854775808',
      ubig: '18446744073709551615',
      amount: '1234567890.12',
      ratio: 0.1,
      bits: 165,
      label: 'l\'été, "quoted"',
      body: 'line\nbreak',
      kind: 'b',
      day: '2011-01-04',
      at_text: '2011-01-04 10:11:12.123456',
      stamp_ms: Date.parse('2011-01-04T10:11:12.500Z'),
      clock: '23:59:59',
      yr: 2011,
      raw: '00FF10',
      doc: '{"a": 1}',
    });
    // Zero dates have no value: NULL; NULL stays NULL and the empty string stays empty.
    expect(two).toMatchObject({ id: 2, flag: false, tiny: null, amount: null, label: '', body: null, day: null, at_text: null, stamp_ms: null });
  });

  it('appends past a cursor in batches: rows sharing a cursor value are neither lost nor repeated', async () => {
    const at = [1, 2, 2, 2, 3, 4, 5, 5, 5, 5];
    await conn.query(`INSERT INTO events VALUES ${at.map((a, i) => `(${i + 1}, ${a}, 'e${i + 1}')`).join(', ')}`);
    const { lake } = await openTestLake({
      sources: { ev: { kind: 'sql', url: URL, table: 'events', into: 'bronze.events', disposition: 'append', cursor: { column: 'at' }, batchSize: 3 } },
    });
    expect((await runIngest(lake)).sources[0]!.ingested.map((b) => b.rows)).toEqual([3, 3, 3, 1]);
    await conn.query(`INSERT INTO events VALUES (11, 5, 'late tie'), (12, 5, 'late tie'), (13, 6, 'new')`);
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 3 });
    expect((await rows(lake, 'SELECT id FROM bronze.events ORDER BY id')).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect((await lake.catalog.sourceStates.get('ev'))!.state).toEqual({ last: ['6', '13'] });
  });

  it('merges on the primary key past a cursor: updates replace, soft-deleted rows leave (a date that is set, a BIT(1) flag)', async () => {
    await conn.query(
      `CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20), deleted_at DATETIME NULL, gone BIT(1) NOT NULL DEFAULT 0, version INT NOT NULL)`,
    );
    await conn.query(`INSERT INTO customers (id, name, version) VALUES (1, 'Ana', 1), (2, 'Bo', 1), (4, 'Ed', 1)`);
    const merge = (softDelete: string, into: string) =>
      ({ kind: 'sql', url: URL, table: 'customers', into, disposition: 'merge', softDelete, cursor: { column: 'version' } }) as const;
    const { lake } = await openTestLake({ sources: { c: merge('deleted_at', 'bronze.customers'), g: merge('gone', 'bronze.customers_flag') } });
    await runIngest(lake);
    await conn.query(`UPDATE customers SET name = 'Ana Maria', version = 2 WHERE id = 1`);
    await conn.query(`UPDATE customers SET deleted_at = '2026-12-01 10:00:00', version = 2 WHERE id = 2`);
    await conn.query(`UPDATE customers SET gone = 1, version = 2 WHERE id = 4`);
    await conn.query(`INSERT INTO customers (id, name, version) VALUES (3, 'Cy', 2)`);
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 4 });
    expect(await rows(lake, 'SELECT id, name FROM bronze.customers ORDER BY id')).toEqual([
      { id: 1, name: 'Ana Maria' },
      { id: 3, name: 'Cy' },
      { id: 4, name: 'Ed' },
    ]);
    // BIT(1) 0 is not deleted; 1 is.
    expect(await rows(lake, 'SELECT id, name FROM bronze.customers_flag ORDER BY id')).toEqual([
      { id: 1, name: 'Ana Maria' },
      { id: 2, name: 'Bo' },
      { id: 3, name: 'Cy' },
    ]);
  });

  it('with a lookback on a DATETIME cursor, reads rows committed late behind it, once', async () => {
    await conn.query(`CREATE TABLE late_dt (id INT PRIMARY KEY, at DATETIME(3) NOT NULL)`);
    await conn.query(`INSERT INTO late_dt VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-01 10:05:00')`);
    const { lake } = await openTestLake({
      sources: { l: { kind: 'sql', url: URL, table: 'late_dt', into: 'bronze.late_dt', disposition: 'append', cursor: { column: 'at', lookback: '10m' } } },
    });
    await runIngest(lake);
    await conn.query(`INSERT INTO late_dt VALUES (3, '2024-01-01 09:58:00'), (4, '2024-01-01 09:40:00')`);
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 1 });
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 0 });
    expect((await rows(lake, 'SELECT id FROM bronze.late_dt ORDER BY id')).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('names an unknown table, and a server that is down by host and port without its password', async () => {
    const port = await freePort();
    const { lake } = await openTestLake({
      sources: {
        nope: { kind: 'sql', url: URL, table: 'nope', into: 'bronze.nope' },
        down: { kind: 'sql', url: `mysql://reader:s3cret@127.0.0.1:${port}/shop`, table: 'orders', into: 'bronze.down' },
      },
    });
    await expect(runIngest(lake, ['nope'])).rejects.toThrow(new RegExp(`sources\\.nope: Table '${db}\\.nope' doesn't exist`));
    const failure = await runIngest(lake, ['down']).then(
      () => undefined,
      (err: unknown) => err as { code: string; message: string; hint?: string },
    );
    expect(failure).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(failure!.message).toMatch(new RegExp(`sources\\.down: cannot read MySQL/MariaDB at 127\\.0\\.0\\.1:${port} \\(database shop\\)`));
    expect(`${failure!.message} ${failure!.hint}`).not.toContain('s3cret');
  });
});
