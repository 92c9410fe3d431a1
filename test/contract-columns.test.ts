import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { TributaryConfig } from '../src/config/types.js';
import { openLog } from '../src/log/open.js';
import { CatalogRegistryClient } from '../src/registry/client.js';
import { contractColumns, decimalText, transformStructure } from '../src/registry/lake-columns.js';
import { createSerde } from '../src/serdes/index.js';
import { runStream } from '../src/streams/worker.js';
import { quoteLiteral } from '../src/engine/sql.js';
import { openTestLake, rows } from './support/project.js';

const avsc = createRequire(import.meta.url)('avsc') as typeof import('avsc');

// Avro and JSON Schema types as lake columns: each contract's columns, then real values through them — encoded and
// decoded by avsc, turned into DuckDB values by json_transform — and a stream whose events table takes its columns
// from its Avro reader schema, nested types and logical types included.
const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' }, doc: 'the order id' },
    { name: 'placed_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'shipped_at', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'total', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    {
      name: 'customer',
      type: {
        type: 'record',
        name: 'Customer',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'vip', type: 'boolean' },
        ],
      },
    },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'qty', type: 'int' },
          ],
        },
      },
    },
    { name: 'tags', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'signature', type: 'bytes' },
    { name: 'weight', type: 'float' },
    { name: 'code', type: ['string', 'long'] },
    { name: 'billing', type: ['null', 'Customer'], default: null },
  ],
};
const ORDER_VALUE = {
  id: '0b6e0f1e-5c6e-4b5e-9e2a-1f2b3c4d5e6f',
  placed_at: Date.UTC(2026, 0, 5, 10, 30, 0, 125),
  shipped_at: Date.UTC(2026, 0, 6, 8, 0, 0, 1) * 1000 + 456,
  day: 20_458, // 2026-01-05
  total: Buffer.from([0x01, 0xe2, 0x40]), // 123456 → 1234.56
  status: 'PAID',
  customer: { name: 'Ada', vip: true },
  lines: [
    { sku: 'A-1', qty: 2 },
    { sku: 'B-2', qty: 1 },
  ],
  tags: { channel: 'web', campaign: 'winter' },
  note: null,
  signature: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
  weight: 1.5,
  // avsc unwraps unions whose branches a value tells apart (its default, wrapUnions: 'auto').
  code: 42,
  billing: { name: 'Ada Ltd', vip: false },
};

describe('contract types as lake columns', () => {
  it('maps every Avro type to a DuckDB type', () => {
    const columns = contractColumns({ file: 'order.avsc', schemaType: 'AVRO', schema: ORDER }, 'test');
    expect(columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'UUID', false],
      ['placed_at', 'TIMESTAMPTZ', false],
      ['shipped_at', 'TIMESTAMPTZ', true],
      ['day', 'DATE', false],
      ['total', 'DECIMAL(10, 2)', false],
      ['status', 'VARCHAR', false],
      ['customer', 'STRUCT("name" VARCHAR, "vip" BOOLEAN)', false],
      ['lines', 'STRUCT("sku" VARCHAR, "qty" INTEGER)[]', false],
      ['tags', 'MAP(VARCHAR, VARCHAR)', false],
      ['note', 'VARCHAR', true],
      ['signature', 'BLOB', false],
      ['weight', 'FLOAT', false],
      ['code', 'JSON', false],
      ['billing', 'STRUCT("name" VARCHAR, "vip" BOOLEAN)', true],
    ]);
    expect(columns.find((c) => c.name === 'status')!.enum).toEqual(['NEW', 'PAID', 'SHIPPED']);
    expect(columns[0]!.description).toBe('the order id');
  });

  it('decimals keep every digit, negative ones too', () => {
    expect(decimalText(Buffer.from([0x01, 0xe2, 0x40]), 2)).toBe('1234.56');
    expect(decimalText(Buffer.from([0xfe, 0x1d, 0xc0]), 2)).toBe('-1234.56');
    expect(decimalText(Buffer.from([0x05]), 3)).toBe('0.005');
    expect(decimalText(Buffer.from([0x00, 0x80]), 0)).toBe('128');
  });

  it('maps JSON Schema types, with required properties not null', () => {
    const schema = {
      type: 'object',
      required: ['id', 'at'],
      properties: {
        id: { type: 'string', format: 'uuid', description: 'order id' },
        at: { type: 'string', format: 'date-time' },
        day: { type: 'string', format: 'date' },
        n: { type: 'integer' },
        x: { type: ['number', 'null'] },
        ok: { type: 'boolean' },
        kind: { enum: ['a', 'b'] },
        meta: { type: 'object', additionalProperties: { type: 'string' } },
        who: { $ref: '#/$defs/Who' },
        list: { type: 'array', items: { type: 'integer' } },
        any: {},
      },
      $defs: { Who: { type: 'object', properties: { name: { type: 'string' } } } },
    };
    const columns = contractColumns({ file: 'order.json', schemaType: 'JSON', schema }, 'test');
    expect(columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'UUID', false],
      ['at', 'TIMESTAMPTZ', false],
      ['day', 'DATE', true],
      ['n', 'BIGINT', true],
      ['x', 'DOUBLE', true],
      ['ok', 'BOOLEAN', true],
      ['kind', 'VARCHAR', true],
      ['meta', 'MAP(VARCHAR, VARCHAR)', true],
      ['who', 'STRUCT("name" VARCHAR)', true],
      ['list', 'BIGINT[]', true],
      ['any', 'JSON', true],
    ]);
  });
});

const config: TributaryConfig = {
  streams: {
    orders: {
      topic: 'orders',
      // No `fields`: the reader schema is the events table's contract.
      format: { kind: 'avro', schema: 'contracts/order.avsc' },
      eventTime: 'placed_at',
      watermark: '1m',
      eventTimeLimits: { maxAhead: false },
      events: 'bronze.orders',
      landing: false,
      outputs: { 'gold.orders_by_status': { window: { kind: 'tumbling', size: '1h' }, groupBy: ['status'], aggregates: { n: { fn: 'count' } } } },
    },
  },
};

describe('a stream whose events table takes its columns from the Avro contract', () => {
  it('lands nested and logical types exactly, and types its group columns from the contract', { timeout: 120_000 }, async () => {
    const { lake, write } = await openTestLake(config);
    write('contracts/order.avsc', JSON.stringify(ORDER));
    const registry = () => new CatalogRegistryClient(lake.catalog.driver);
    const serde = createSerde({ kind: 'avro', schema: 'contracts/order.avsc', subject: 'orders-value' }, 'test', {
      projectDir: lake.config.projectDir,
      registry,
    });
    await serde.prepare?.([]);
    // avsc decodes what it encodes to the same value: the test's value is a valid Order.
    expect(avsc.Type.forSchema(ORDER as never).isValid(ORDER_VALUE)).toBe(true);
    const log = await openLog(lake.config.log);
    try {
      await log.createTopic('orders', 1);
      const producer = await log.producer();
      await producer.send([{ topic: 'orders', key: null, value: serde.encode(ORDER_VALUE) }]);
      await producer.close();
    } finally {
      await log.close();
    }
    expect(await runStream(lake.config, 'orders', { availableNow: true })).toMatchObject({ records: 1, deadLetters: 0 });

    const types = await rows(lake, 'SELECT column_name AS c, column_type AS t FROM (DESCRIBE SELECT * FROM bronze.orders)');
    expect(Object.fromEntries(types.map((r) => [r.c, r.t]))).toMatchObject({
      id: 'UUID',
      placed_at: 'TIMESTAMP WITH TIME ZONE',
      day: 'DATE',
      total: 'DECIMAL(10,2)',
      customer: 'STRUCT("name" VARCHAR, vip BOOLEAN)',
      lines: 'STRUCT(sku VARCHAR, qty INTEGER)[]',
      tags: 'MAP(VARCHAR, VARCHAR)',
      signature: 'BLOB',
      code: 'JSON',
      offset: 'BIGINT',
    });
    const [row] = await rows(
      lake,
      `SELECT CAST(id AS VARCHAR) AS id, strftime(placed_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') AS placed_at,
              strftime(shipped_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS shipped_at, CAST(day AS VARCHAR) AS day,
              CAST(total AS VARCHAR) AS total, status, customer.name AS customer, customer.vip AS vip, len(lines) AS lines,
              lines[1].sku AS sku, lines[1].qty AS qty, tags['campaign'] AS campaign, note, hex(signature) AS signature, weight,
              CAST(code AS VARCHAR) AS code, billing.name AS billing
         FROM bronze.orders`,
    );
    expect(row).toEqual({
      id: ORDER_VALUE.id,
      placed_at: '2026-01-05 10:30:00.125',
      shipped_at: '2026-01-06 08:00:00.001456',
      day: '2026-01-05',
      total: '1234.56',
      status: 'PAID',
      customer: 'Ada',
      vip: true,
      lines: 2,
      sku: 'A-1',
      qty: 2,
      campaign: 'winter',
      note: null,
      signature: 'DEADBEEF',
      weight: 1.5,
      code: '42',
      billing: 'Ada Ltd',
    });
    // The structure json_transform applies is the contract's.
    const structure = transformStructure(contractColumns({ file: 'order.avsc', schemaType: 'AVRO', schema: ORDER }, 'test'));
    expect((await rows(lake, `SELECT json_transform('{"status": "NEW"}', ${quoteLiteral(structure)}).status AS s`))[0]!.s).toBe('NEW');
    // The window table exists (the hour has not closed) with its group column typed from the contract's enum: text.
    const groups = await rows(lake, "SELECT column_type AS t FROM (DESCRIBE SELECT * FROM gold.orders_by_status) WHERE column_name = 'status'");
    expect(groups[0]!.t).toBe('VARCHAR');
  });
});
