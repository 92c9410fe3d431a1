import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runDemo } from '../src/demo/demo.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';
import { runModels } from '../src/models/run.js';
import { syncStore } from '../src/store/postgres-sync.js';
import { PG_URL, tempDir } from './support/helpers.js';
import { openTestLake } from './support/project.js';
import { mkdirSync, writeFileSync } from 'node:fs';

const schemas: string[] = [];
function storeSchema(): string {
  const schema = `store_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  schemas.push(schema);
  return schema;
}
afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await client.end();
});

async function pgRows(sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('operational store (PostgreSQL)', () => {
  it('maps types to their PostgreSQL kind: uuid, jsonb, time, interval, bytea, arrays, numeric(p,s)', async () => {
    const { lake, dir } = await openTestLake();
    mkdirSync(path.join(dir, 'models/gold'), { recursive: true });
    writeFileSync(
      path.join(dir, 'models/gold/typed.sql'),
      `SELECT 1 AS id, UUID '6ba7b810-9dad-11d1-80b4-00c04fd430c8' AS u, '{"a": [1, 2]}'::JSON AS j, TIME '12:34:56' AS t,
              INTERVAL '1 day 2 hours' AS iv, '\\xDE\\xAD'::BLOB AS b, [1, 2, 3] AS ints, ['x', NULL, 'z'] AS texts,
              {'k': 'v', 'n': 2} AS s, [{'k': 1}] AS nested, CAST(12580.30 AS DECIMAL(12,2)) AS money`,
    );
    await runModels(lake);
    const schema = storeSchema();
    await expect(syncStore(lake, { url: `${PG_URL}?schema=${schema}`, tables: { 'gold.typed': { key: 'id', indexes: ['nope'] } } })).rejects.toThrow(
      'store.tables.gold.typed.indexes[0]: gold.typed has no column "nope"',
    );
    await syncStore(lake, { url: `${PG_URL}?schema=${schema}`, tables: { 'gold.typed': { key: 'id', indexes: [['u', 't'], 'money'] } } });
    const indexes = await pgRows(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '${schema}' AND tablename = 'gold_typed' AND indexname LIKE '%_idx'`,
    );
    expect(indexes.map((r) => String(r.indexdef).replace(/.* USING btree /, '')).sort()).toEqual(['(money)', '(u, t)']);
    const types = await pgRows(`SELECT column_name AS c, format_type(atttypid, atttypmod) AS t FROM information_schema.columns c
        JOIN pg_attribute a ON a.attrelid = '"${schema}".gold_typed'::regclass AND a.attname = c.column_name
       WHERE table_schema = '${schema}' AND table_name = 'gold_typed' AND column_name NOT LIKE '\\_%' ORDER BY ordinal_position`);
    expect(Object.fromEntries(types.map((r) => [r.c, r.t]))).toEqual({
      id: 'integer',
      u: 'uuid',
      j: 'jsonb',
      t: 'time without time zone',
      iv: 'interval',
      b: 'bytea',
      ints: 'integer[]',
      texts: 'text[]',
      s: 'jsonb',
      nested: 'jsonb',
      money: 'numeric(12,2)',
    });
    const [row] =
      await pgRows(`SELECT u::text, j->'a'->>1 AS j1, t::text, iv::text, encode(b, 'hex') AS b, ints, texts, s->>'k' AS sk, nested->0->>'k' AS nk, money::text
                                  FROM "${schema}".gold_typed`);
    expect(row).toEqual({
      u: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      j1: '2',
      t: '12:34:56',
      iv: '1 day 02:00:00',
      b: 'dead',
      ints: [1, 2, 3],
      texts: ['x', null, 'z'],
      sk: 'v',
      nk: '1',
      money: '12580.30',
    });
  });

  it('upserts only changed rows, removes or flags vanished keys, records the sync, and skips a synced snapshot', async () => {
    const { lake, dir } = await openTestLake({ sources: { p: { kind: 'files', glob: 'in/*.csv', into: 'bronze.prices' } } });
    mkdirSync(path.join(dir, 'models/gold'), { recursive: true });
    mkdirSync(path.join(dir, 'in'), { recursive: true });
    writeFileSync(path.join(dir, 'models/gold/prices.sql'), 'SELECT sku, price, CAST(day AS DATE) AS day FROM bronze.prices');
    writeFileSync(path.join(dir, 'in/a.csv'), 'sku,price,day\nA,1.5,2024-01-01\nB,2.5,2024-01-02\nC,3.5,2024-01-03\n');
    await runIngest(lake);
    await runModels(lake);
    const del = storeSchema();
    const flag = storeSchema();
    const store = (schema: string, onDelete: 'delete' | 'flag') => ({ url: `${PG_URL}?schema=${schema}`, tables: { 'gold.prices': { key: 'sku' } }, onDelete });

    const [first] = await syncStore(lake, store(del, 'delete'));
    expect(first).toMatchObject({
      table: 'gold.prices',
      target: 'gold_prices',
      snapshot: 1,
      skipped: false,
      rowsInSnapshot: 3,
      rowsUpserted: 3,
      rowsDeleted: 0,
    });
    expect(first!.refreshSeconds).toBeGreaterThanOrEqual(0);
    await syncStore(lake, store(flag, 'flag'));
    expect(await pgRows(`SELECT sku, price, to_char(day, 'YYYY-MM-DD') AS day FROM "${del}".gold_prices ORDER BY sku`)).toEqual([
      { sku: 'A', price: 1.5, day: '2024-01-01' },
      { sku: 'B', price: 2.5, day: '2024-01-02' },
      { sku: 'C', price: 3.5, day: '2024-01-03' },
    ]);
    const stamp = await pgRows(`SELECT max(_synced_at) AS t FROM "${del}".gold_prices`);
    const [again] = await syncStore(lake, store(del, 'delete'));
    expect(again).toMatchObject({ skipped: true, rowsUpserted: 0 });
    expect(await pgRows(`SELECT max(_synced_at) AS t FROM "${del}".gold_prices`)).toEqual(stamp);

    // B changes price, C disappears, D arrives.
    writeFileSync(path.join(dir, 'in/a.csv'), 'sku,price,day\nA,1.5,2024-01-01\nB,9.9,2024-01-02\nD,4.5,2024-01-04\n');
    await runIngest(lake);
    // bronze now holds both versions of the file: the model reads the latest version only.
    writeFileSync(
      path.join(dir, 'models/gold/prices.sql'),
      `SELECT sku, price, CAST(day AS DATE) AS day FROM bronze.prices WHERE _file_hash = (SELECT arg_max(_file_hash, _ingested_at) FROM bronze.prices)`,
    );
    await runModels(lake);
    const [changed] = await syncStore(lake, store(del, 'delete'));
    expect(changed).toMatchObject({ skipped: false, rowsInSnapshot: 3, rowsUpserted: 2, rowsDeleted: 1 });
    expect(await pgRows(`SELECT sku, price FROM "${del}".gold_prices ORDER BY sku`)).toEqual([
      { sku: 'A', price: 1.5 },
      { sku: 'B', price: 9.9 },
      { sku: 'D', price: 4.5 },
    ]);
    const [flagged] = await syncStore(lake, store(flag, 'flag'));
    expect(flagged).toMatchObject({ rowsUpserted: 2, rowsDeleted: 1 });
    expect(await pgRows(`SELECT sku, _deleted FROM "${flag}".gold_prices ORDER BY sku`)).toEqual([
      { sku: 'A', _deleted: false },
      { sku: 'B', _deleted: false },
      { sku: 'C', _deleted: true },
      { sku: 'D', _deleted: false },
    ]);
    const meta = await pgRows(`SELECT source_table, source_snapshot, rows_upserted, rows_deleted, refresh_seconds FROM "${del}"._tributary_sync`);
    expect(meta).toEqual([
      { source_table: 'gold.prices', source_snapshot: expect.any(String), rows_upserted: '2', rows_deleted: '1', refresh_seconds: expect.any(Number) },
    ]);
  }, 60_000);

  it('append mode keeps a history: new keys inserted, rows never changed or deleted', async () => {
    const { lake, dir } = await openTestLake({ sources: { t: { kind: 'files', glob: 'ticks/*.csv', into: 'bronze.ticks' } } });
    const write = (name: string, body: string) => {
      mkdirSync(path.join(dir, 'ticks'), { recursive: true });
      writeFileSync(path.join(dir, 'ticks', name), body);
    };
    const schema = storeSchema();
    const store = { url: `${PG_URL}?schema=${schema}`, tables: { 'bronze.ticks': { key: ['sym', 'at'], mode: 'append' as const, indexes: ['sym', 'at'] } } };
    write('1.csv', 'sym,at,price\nBTC,1,100\nETH,1,10\n');
    await runIngest(lake);
    expect((await syncStore(lake, store))[0]).toMatchObject({ rowsUpserted: 2, rowsDeleted: 0 });
    write('2.csv', 'sym,at,price\nBTC,2,101\nBTC,1,999\n'); // a repeated key: the history keeps its first row
    await runIngest(lake);
    const [second] = await syncStore(lake, store);
    expect(second).toMatchObject({ rowsInSnapshot: 4, rowsUpserted: 1, rowsDeleted: 0 });
    // The lake table replaced by a smaller one: the history keeps what it had.
    await lake.write('bronze.ticks', "SELECT 'SOL' AS sym, 3 AS at, 5 AS price", { mode: 'overwrite' });
    expect((await syncStore(lake, store))[0]).toMatchObject({ rowsUpserted: 1, rowsDeleted: 0 });
    expect(await pgRows(`SELECT sym, at, price FROM "${schema}".bronze_ticks ORDER BY sym, at`)).toEqual([
      { sym: 'BTC', at: '1', price: '100' },
      { sym: 'BTC', at: '2', price: '101' },
      { sym: 'ETH', at: '1', price: '10' },
      { sym: 'SOL', at: '3', price: '5' },
    ]);
    const indexes = await pgRows(`SELECT indexname FROM pg_indexes WHERE schemaname = '${schema}' AND tablename = 'bronze_ticks' ORDER BY indexname`);
    expect(indexes.map((r) => r.indexname)).toEqual(['bronze_ticks_at_idx', 'bronze_ticks_pkey', 'bronze_ticks_sym_idx']);
    // The lake table dropped and written again: its snapshot ids start afresh, and the store is not fooled by them.
    const other = storeSchema();
    const again = { url: `${PG_URL}?schema=${other}`, tables: { 'gold.hist': { key: 'k', mode: 'append' as const } } };
    await lake.write('gold.hist', "SELECT 'a' AS k", { mode: 'append' });
    expect((await syncStore(lake, again))[0]).toMatchObject({ snapshot: 1, rowsUpserted: 1 });
    await lake.drop('gold.hist');
    await lake.write('gold.hist', "SELECT 'b' AS k", { mode: 'append' });
    expect((await syncStore(lake, again))[0]).toMatchObject({ snapshot: 1, skipped: false, rowsUpserted: 1 });
    expect((await pgRows(`SELECT k FROM "${other}".gold_hist ORDER BY k`)).map((r) => r.k)).toEqual(['a', 'b']);
  }, 60_000);

  it("syncs the retail example's gold tables (seed 002's loader) and names a bad key", async () => {
    const dir = path.join(tempDir('trib-store-'), 'retail');
    await runDemo(dir, { seed: 9, rows: 1200 });
    const config = await loadConfig(dir);
    const schema = storeSchema();
    const lake = await Lake.open(config);
    try {
      const reports = await syncStore(lake, { ...config.store!, url: `${PG_URL}?schema=${schema}` });
      expect(reports).toHaveLength(9);
      for (const r of reports) expect(r.rowsUpserted, r.table).toBe(r.rowsInSnapshot);
      const [{ n }] = (await pgRows(`SELECT count(*)::int AS n FROM "${schema}".gold_dim_clients`)) as [{ n: number }];
      expect(n).toBe((await lake.catalog.getTable('gold.dim_clients'))!.rowCount);
      // Indexes on what the API declares for fact_ventes (dimensions produit and segment, time column date_achat).
      const indexes = await pgRows(`SELECT indexdef FROM pg_indexes WHERE schemaname = '${schema}' AND tablename = 'gold_fact_ventes' ORDER BY indexname`);
      expect(indexes.map((r) => String(r.indexdef).replace(/.* USING btree /, '')).sort()).toEqual(['(date_achat)', '(id_achat)', '(produit)', '(segment)']);
      // Money stays exact from the CSV to PostgreSQL: DECIMAL in the lake, numeric(p,2) in the store.
      const money = await pgRows(
        `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '"${schema}".gold_kpi_ca_par_mois'::regclass AND attname = 'ca'`,
      );
      expect(money).toEqual([{ t: 'numeric(38,2)' }]);
      const cents = await pgRows(`SELECT count(*)::int AS n FROM "${schema}".gold_kpi_ca_par_mois WHERE ca <> round(ca, 2)`);
      expect(cents).toEqual([{ n: 0 }]);
      await expect(syncStore(lake, { url: `${PG_URL}?schema=${schema}`, tables: { 'gold.dim_clients': { key: 'nope' } } })).rejects.toThrow(
        /store\.tables\.gold\.dim_clients\.key: gold\.dim_clients has no column "nope"/,
      );
    } finally {
      await lake.close();
    }
  }, 60_000);
});
