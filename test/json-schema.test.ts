import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { JsonDeserializer, JsonSerializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TributaryConfig } from '../src/config/types.js';
import { openLog } from '../src/log/open.js';
import { publishTable } from '../src/publish/publish.js';
import { buildServer } from '../src/serve/server.js';
import { runStream } from '../src/streams/worker.js';
import { cli } from './support/helpers.js';
import { openTestLake, rows } from './support/project.js';

// JSON Schema on a topic: documents written by Confluent's own JsonSerializer (its wire format, the schema registered
// in Tributary's registry by the serializer) and plain JSON text are validated by the stream against the contract;
// a document that is JSON but breaks the contract goes to the dead letters naming where and why. A table published
// with `wire: 'confluent'` is read by Confluent's JsonDeserializer.
const ORDER = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Order',
  type: 'object',
  properties: {
    id: { type: 'string' },
    pays: { type: 'string', minLength: 2 },
    montant: { type: 'number', minimum: 0 },
    at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'pays', 'montant', 'at'],
  additionalProperties: false,
};
const KPI = {
  type: 'object',
  properties: { pays: { type: 'string' }, n: { type: 'integer' } },
  required: ['pays', 'n'],
  additionalProperties: false,
};
const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 10, minute)).toISOString();

const config: TributaryConfig = {
  publish: { kpis: { table: 'gold.order_kpis', topic: 'order_kpis', key: 'pays', format: { kind: 'json', schema: 'contracts/kpi.json', wire: 'confluent' } } },
  streams: {
    orders: {
      topic: 'orders',
      format: { kind: 'json', schema: 'contracts/order.json' },
      fields: { id: 'string', pays: 'string', montant: 'number', at: 'timestamp' },
      eventTime: 'at',
      watermark: '1m',
      eventTimeLimits: { maxAhead: false },
      outputs: {
        'gold.orders_per_minute': {
          window: { kind: 'tumbling', size: '1m' },
          groupBy: ['pays'],
          aggregates: { n: { fn: 'count' }, total: { fn: 'sum', field: 'montant' } },
        },
      },
    },
  },
};

let lake: Awaited<ReturnType<typeof openTestLake>>['lake'];
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  let dir: string;
  ({ lake, dir } = await openTestLake(config));
  mkdirSync(path.join(dir, 'contracts'), { recursive: true });
  writeFileSync(path.join(dir, 'contracts/order.json'), JSON.stringify(ORDER, null, 2));
  writeFileSync(path.join(dir, 'contracts/kpi.json'), JSON.stringify(KPI));
  const { app } = await buildServer(lake);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/registry`;
  close = () => app.close();
});
afterAll(async () => close?.());

describe('JSON Schema on a stream and a publication (Confluent wire format, ajv validation)', () => {
  it('validates Confluent-framed and plain JSON against the contract, dead-lettering what breaks it', { timeout: 120_000 }, async () => {
    // The contract registered as a producer's CI would, then Confluent's serializer writing under that id.
    const client = new SchemaRegistryClient({ baseURLs: [base], maxRetries: 0 });
    const id = await client.register('orders-value', { schemaType: 'JSON', schema: JSON.stringify(ORDER) });
    const framed = new JsonSerializer(new SchemaRegistryClient({ baseURLs: [base], maxRetries: 0 }), SerdeType.VALUE, { useSchemaId: id });
    const good = [
      await framed.serialize('orders', { id: 'o1', pays: 'FR', montant: 10, at: at(0) }),
      await framed.serialize('orders', { id: 'o2', pays: 'FR', montant: 5.5, at: at(0) }),
      Buffer.from(JSON.stringify({ id: 'o3', pays: 'DE', montant: 7, at: at(0) })),
      // Three minutes later: the 1-minute watermark closes minute 0.
      Buffer.from(JSON.stringify({ id: 'o4', pays: 'DE', montant: 1, at: at(3) })),
    ];
    expect(good[0]![0]).toBe(0);
    expect(good[0]!.readInt32BE(1)).toBe(id);
    const bad = [
      Buffer.from(JSON.stringify({ id: 'o5', pays: 'F', montant: -1, at: at(3) })),
      Buffer.from(JSON.stringify({ id: 'o6', pays: 'FR', montant: 1, at: at(3), coupon: 'X' })),
      Buffer.from(JSON.stringify({ id: 'o7', pays: 'FR', montant: 1, at: 'yesterday' })),
    ];
    const log = await openLog(lake.config.log);
    try {
      await log.createTopic('orders', 1);
      const producer = await log.producer();
      await producer.send([...good, ...bad].map((value, i) => ({ topic: 'orders', key: Buffer.from(`k${i}`), value })));
      await producer.close();
    } finally {
      await log.close();
    }
    const report = await runStream(lake.config, 'orders', { availableNow: true });
    expect(report).toMatchObject({ records: 7, deadLetters: 3 });
    expect(await rows(lake, 'SELECT pays, n, total FROM gold.orders_per_minute ORDER BY pays')).toEqual([
      { pays: 'DE', n: 1, total: 7 },
      { pays: 'FR', n: 2, total: 15.5 },
    ]);
    const dlq = await rows(lake, 'SELECT "offset", error AS reason FROM bronze.orders_dlq ORDER BY "offset"');
    expect(dlq.map((d) => d.offset)).toEqual([4, 5, 6]);
    expect(String(dlq[0]!.reason)).toMatch(/not valid against contracts\/order\.json: \/pays: must NOT have fewer than 2 characters; \/montant: must be >= 0/);
    expect(String(dlq[1]!.reason)).toMatch(/must NOT have additional properties \(coupon\)/);
    expect(String(dlq[2]!.reason)).toMatch(/\/at: must match format "date-time"/);
  });

  it('`tributary produce --schema order.json` validates each line and frames it with the registered id', { timeout: 60_000 }, async () => {
    const file = path.join(lake.config.projectDir, 'more.ndjson');
    writeFileSync(file, `${JSON.stringify({ id: 'o8', pays: 'IT', montant: 3, at: at(4) })}\n`);
    const schema = path.join(lake.config.projectDir, 'contracts/order.json');
    writeFileSync(path.join(lake.config.projectDir, 'tributary.config.mjs'), `export default ${JSON.stringify(config)};\n`);
    const sent = await cli(['produce', 'orders', '--from', file, '--schema', schema, '--project', lake.config.projectDir]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(await runStream(lake.config, 'orders', { availableNow: true })).toMatchObject({ records: 1, deadLetters: 0 });
    // Found under orders-value (registered by the first test): no new version.
    expect((await fetch(`${base}/subjects/orders-value/versions`).then((r) => r.json())) as number[]).toEqual([1]);
    const bad = path.join(lake.config.projectDir, 'bad.ndjson');
    writeFileSync(bad, `${JSON.stringify({ id: 'o9', pays: 'IT', montant: -3, at: at(4) })}\n`);
    const refused = await cli(['produce', 'orders', '--from', bad, '--schema', schema, '--project', lake.config.projectDir]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/bad\.ndjson:1: cannot be encoded as json: not valid against .*order\.json: \/montant: must be >= 0/);
  });

  it('publishes rows in the JSON Schema wire format, which Confluent’s JsonDeserializer reads and validates', async () => {
    await lake.write('gold.order_kpis', "SELECT 'FR' AS pays, 12 AS n UNION ALL SELECT 'DE', 7", { mode: 'append' });
    expect(await publishTable(lake, 'kpis')).toMatchObject({ sent: 2 });
    const versions = (await fetch(`${base}/subjects/order_kpis-value/versions/1`).then((r) => r.json())) as { schemaType: string; id: number };
    expect(versions.schemaType).toBe('JSON');
    const deserializer = new JsonDeserializer(new SchemaRegistryClient({ baseURLs: [base], maxRetries: 0 }), SerdeType.VALUE, { validate: true });
    const log = await openLog(lake.config.log);
    try {
      const reader = await log.reader('order_kpis', new Map([[0, 0]]));
      const got = await reader.poll({ maxWaitMs: 1000 });
      await reader.close();
      expect(got.every((r) => r.value![0] === 0 && r.value!.readInt32BE(1) === versions.id)).toBe(true);
      const decoded = await Promise.all(got.map((r) => deserializer.deserialize('order_kpis', r.value!)));
      expect(decoded.sort((a, b) => String(a.pays).localeCompare(String(b.pays)))).toEqual([
        { pays: 'DE', n: 7 },
        { pays: 'FR', n: 12 },
      ]);
    } finally {
      await log.close();
    }
  });
});
