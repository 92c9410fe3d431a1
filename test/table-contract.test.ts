import { describe, expect, it } from 'vitest';
import { runIngest } from '../src/ingest/run.js';
import { buildServer } from '../src/serve/server.js';
import { openTestLake, rows } from './support/project.js';

// One declaration for the table and the API: `tables[…].contract` gives bronze.orders its columns and types (those a
// file lacks too), refuses what the contract does not allow (another column, a null where it may not be, a status
// outside its enum) naming the file, line and rule, and the API's row schema takes its docs, enum and nullability.
const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'string', doc: 'The order number, as the shop prints it' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'placed_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

describe('a table that takes its columns from a contract', () => {
  it('ingests with the contract’s types, refuses what it does not allow, and its API schema follows', { timeout: 60_000 }, async () => {
    const { lake, write } = await openTestLake({
      sources: { orders: { kind: 'files', glob: 'in/*.csv', into: 'bronze.orders' } },
      tables: { 'bronze.orders': { contract: 'contracts/order.avsc' } },
      serve: { expose: ['bronze.orders'] },
    });
    write('contracts/order.avsc', JSON.stringify(ORDER));
    write('in/a.csv', 'id,status,amount,placed_at\nA-1,NEW,12.50,2026-01-05T10:00:00Z\nA-2,PAID,7,2026-01-05T11:00:00Z\n');
    write('in/b.csv', 'id,status,amount,placed_at\nB-1,NEW,1.00,2026-01-06T10:00:00Z\nB-2,LOST,2.00,2026-01-06T10:00:00Z\n');
    write('in/c.csv', 'id,status,amount,placed_at,coupon\nC-1,NEW,1.00,2026-01-06T10:00:00Z,WINTER\n');
    write('in/d.csv', 'id,amount,placed_at\nD-1,1.00,2026-01-06T10:00:00Z\n');
    write('in/e.csv', 'id,status,amount,placed_at\nE-1,NEW,,2026-01-06T10:00:00Z\n');
    const report = (await runIngest(lake)).sources[0]!;
    expect(report.rows).toBe(2);
    const reasons = Object.fromEntries(report.quarantined.map((q) => [q.path, q.reason]));
    expect(report.quarantined.every((q) => q.reasonCode === 'schema_contract')).toBe(true);
    expect(reasons['in/b.csv']).toBe(
      "column status is not one of the contract's symbols (NEW, PAID, SHIPPED) (bronze.orders's contract, schemaContract.types is 'freeze' by default); first at line 3",
    );
    expect(reasons['in/c.csv']).toMatch(
      /^new column\(s\) coupon not in bronze\.orders \(schemaContract\.columns is 'freeze' by default for a table with a contract\)/,
    );
    expect(reasons['in/d.csv']).toBe("column(s) status of bronze.orders's contract (contracts/order.avsc) are missing and not nullable");
    expect(reasons['in/e.csv']).toMatch(/^column amount is null, which the contract does not allow .*; first at line 2$/);

    // The contract's types, and its column the files lack (note), from the first file on.
    const types = Object.fromEntries((await rows(lake, 'DESCRIBE SELECT * FROM bronze.orders')).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({ id: 'VARCHAR', status: 'VARCHAR', amount: 'DECIMAL(10,2)', placed_at: 'TIMESTAMP WITH TIME ZONE', note: 'VARCHAR' });
    expect(await rows(lake, 'SELECT id, CAST(amount AS VARCHAR) AS amount, note FROM bronze.orders ORDER BY id')).toEqual([
      { id: 'A-1', amount: '12.50', note: null },
      { id: 'A-2', amount: '7.00', note: null },
    ]);

    // 'discard_row' for the table: B-2 is set aside with the reason, B-1 comes in.
    Object.assign(lake.config.tables['bronze.orders']!, { schemaContract: { types: 'discard_row' } });
    const { retryQuarantined } = await import('../src/ingest/run.js');
    const b = report.quarantined.find((q) => q.path === 'in/b.csv')!;
    expect((await retryQuarantined(lake, b.id!)).sources[0]).toMatchObject({ rows: 1, rejectedRows: 1 });
    const [reject] = await rows(lake, 'SELECT _source_file, line, column_name, error_type FROM bronze.orders_rejects');
    expect(reject).toEqual({ _source_file: 'in/b.csv', line: 3, column_name: 'status', error_type: 'SCHEMA' });

    const { app } = await buildServer(lake);
    try {
      const doc = (await app.inject({ url: '/openapi.json' })).json() as {
        components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
      };
      const row = doc.components.schemas['bronze.orders']!.properties;
      expect(row.id).toMatchObject({ type: 'string', description: 'The order number, as the shop prints it' });
      expect(row.status).toMatchObject({ type: 'string', enum: ['NEW', 'PAID', 'SHIPPED'] });
      expect(row.note).toMatchObject({ type: ['string', 'null'] });
      expect(row.amount).toMatchObject({ type: 'number', 'x-duckdb-type': 'DECIMAL(10,2)' });
    } finally {
      await app.close();
    }
  });
});
