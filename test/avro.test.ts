import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AvroSerializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TributaryConfig } from '../src/config/types.js';
import { openLog } from '../src/log/open.js';
import { publishTable } from '../src/publish/publish.js';
import { createSerde } from '../src/serdes/index.js';
import { CatalogRegistryClient } from '../src/registry/client.js';
import { buildServer } from '../src/serve/server.js';
import { runStream } from '../src/streams/worker.js';
import { openTestLake, rows } from './support/project.js';
import { USER_ACTIVITY } from './support/schemas.js';
import { cli } from './support/helpers.js';

// Avro in Confluent's wire format on a stream: records written by Confluent's own serializer with two versions of
// seed 003's UserActivity (the second adds an optional field) are read into the lake through the stream's reader
// schema; bytes that are not the wire format, an unknown schema id and a truncated value go to the dead letters.
// Then the bytes themselves, checked by Apache Avro's Python library both ways.
const USER_ACTIVITY_V1 = USER_ACTIVITY;
const USER_ACTIVITY_V2 = { ...USER_ACTIVITY_V1, fields: [...USER_ACTIVITY_V1.fields, { name: 'session_id', type: ['null', 'string'], default: null }] };
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const event = (i: number, type: string) => ({
  event_id: `e${i}`,
  user_id: `u${i % 3}`,
  event_type: type,
  timestamp: T0 + i * 1000,
  page_id: i % 2 ? `p${i}` : null,
  metadata: { source: 'web' },
});

const KPI = {
  type: 'record',
  name: 'Kpi',
  fields: [
    { name: 'pays', type: 'string' },
    { name: 'n', type: 'long' },
    { name: 'ca', type: 'double' },
  ],
};
const config: TributaryConfig = {
  tables: { 'bronze.user_activity': { partitionBy: { column: 'timestamp', granularity: 'day' } } },
  publish: { kpis: { table: 'gold.kpis', topic: 'kpis', key: 'pays', format: { kind: 'avro', schema: 'contracts/kpi.avsc' } } },
  streams: {
    activity: {
      topic: 'user_activity',
      format: { kind: 'avro', schema: 'contracts/user_activity.avsc' },
      fields: { event_id: 'string', user_id: 'string', event_type: 'string', timestamp: 'timestamp', page_id: 'string?', session_id: 'string?' },
      eventTime: 'timestamp',
      watermark: '10m',
      eventTimeLimits: { maxAhead: false },
      // Seed 003's BigQuery table: the decoded events, typed, partitioned by day.
      events: 'bronze.user_activity',
      outputs: { 'gold.activity_by_type': { window: { kind: 'tumbling', size: '1m' }, groupBy: ['event_type'], aggregates: { n: { fn: 'count' } } } },
    },
  },
};

let lake: Awaited<ReturnType<typeof openTestLake>>['lake'];
let dir: string;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ lake, dir } = await openTestLake(config));
  mkdirSync(path.join(dir, 'contracts'), { recursive: true });
  // The same project for the CLI.
  writeFileSync(path.join(dir, 'tributary.config.mjs'), `export default ${JSON.stringify(config)};\n`);
  // The stream reads every record as version 2 (Avro's resolution fills session_id for version 1's records).
  writeFileSync(path.join(dir, 'contracts/user_activity.avsc'), JSON.stringify(USER_ACTIVITY_V2, null, 2));
  writeFileSync(path.join(dir, 'contracts/kpi.avsc'), JSON.stringify(KPI));
  const { app } = await buildServer(lake);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/registry`;
  close = () => app.close();
});
afterAll(async () => close?.());

async function send(values: Buffer[]) {
  const log = await openLog(lake.config.log);
  try {
    await log.createTopic('user_activity', 1);
    const producer = await log.producer();
    await producer.send(values.map((value, i) => ({ topic: 'user_activity', key: Buffer.from(`k${i}`), value })));
    await producer.close();
  } finally {
    await log.close();
  }
}

describe('Avro on a stream (Confluent wire format, schemas from the registry)', () => {
  it('reads two producer versions through the reader schema, and sends what is not Avro to the dead letters', { timeout: 120_000 }, async () => {
    // Two producers, as two services would be: each registers its own version under user_activity-value.
    const client = new SchemaRegistryClient({ baseURLs: [base] });
    const id1 = await client.register('user_activity-value', { schemaType: 'AVRO', schema: JSON.stringify(USER_ACTIVITY_V1) });
    const id2 = await client.register('user_activity-value', { schemaType: 'AVRO', schema: JSON.stringify(USER_ACTIVITY_V2) });
    expect([id1, id2]).toEqual([1, 2]);
    const v1 = new AvroSerializer(new SchemaRegistryClient({ baseURLs: [base] }), SerdeType.VALUE, { useSchemaId: id1 });
    const v2 = new AvroSerializer(new SchemaRegistryClient({ baseURLs: [base] }), SerdeType.VALUE, { useSchemaId: id2 });
    const good = [
      ...(await Promise.all([0, 1, 2].map((i) => v1.serialize('user_activity', event(i, 'CLICK'))))),
      ...(await Promise.all([3, 4].map((i) => v2.serialize('user_activity', { ...event(i, 'VIEW'), session_id: `s${i}` })))),
      // 20 minutes later: the 10-minute watermark passes the first minute, whose window closes.
      await v2.serialize('user_activity', { ...event(1200, 'LOGIN'), session_id: null }),
    ];
    const unknownId = Buffer.from(good[0]!);
    unknownId.writeInt32BE(999, 1);
    const poison = [Buffer.from('{"event_id": "json, not avro"}'), unknownId, good[3]!.subarray(0, 9)];
    await send([...good, ...poison]);

    const report = await runStream(lake.config, 'activity', { availableNow: true });
    expect(report).toMatchObject({ records: 9, deadLetters: 3 });
    expect(await rows(lake, 'SELECT event_type, n FROM gold.activity_by_type ORDER BY event_type')).toEqual([
      { event_type: 'CLICK', n: 3 },
      { event_type: 'VIEW', n: 2 },
    ]);
    // The events table: every event that passed, typed (version 1's records with session_id filled by the resolution).
    const events = await rows(lake, 'SELECT event_id, event_type, "timestamp", page_id, session_id, "offset" FROM bronze.user_activity ORDER BY "offset"');
    expect(events.map((e) => [e.event_id, e.event_type, e.session_id, e.offset])).toEqual([
      ['e0', 'CLICK', null, 0],
      ['e1', 'CLICK', null, 1],
      ['e2', 'CLICK', null, 2],
      ['e3', 'VIEW', 's3', 3],
      ['e4', 'VIEW', 's4', 4],
      ['e1200', 'LOGIN', null, 5],
    ]);
    expect((events[0]!.timestamp as Date).getTime()).toBe(T0);
    const types = await rows(
      lake,
      "SELECT column_name AS c, column_type AS t FROM (DESCRIBE SELECT * FROM bronze.user_activity) WHERE column_name IN ('timestamp', 'event_id', 'offset')",
    );
    expect(Object.fromEntries(types.map((r) => [r.c, r.t]))).toEqual({ event_id: 'VARCHAR', timestamp: 'TIMESTAMP WITH TIME ZONE', offset: 'BIGINT' });
    const dlq = await rows(lake, 'SELECT "offset", error AS reason FROM bronze.activity_dlq ORDER BY "offset"');
    expect(dlq.map((d) => d.offset)).toEqual([6, 7, 8]);
    expect(String(dlq[0]!.reason)).toMatch(/not the Confluent wire format: first byte 0x7b, expected the magic byte 0/);
    expect(String(dlq[1]!.reason)).toMatch(/schema id 999 is not in the registry/);
    expect(String(dlq[2]!.reason)).toMatch(/Avro value of schema id 2 does not decode/);
  });

  it('`tributary produce --schema` registers the schema and sends the wire format, which the stream reads', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'events.ndjson');
    writeFileSync(
      file,
      [
        { ...event(1300, 'PURCHASE'), session_id: 's9' },
        { ...event(1301, 'LOGOUT'), session_id: null },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const produced = await cli(['produce', 'user_activity', '--from', file, '--schema', path.join(dir, 'contracts/user_activity.avsc'), '--project', dir]);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stdout).toContain('2 records published');
    const report = await runStream(lake.config, 'activity', { availableNow: true });
    expect(report).toMatchObject({ records: 2, deadLetters: 0 });
    // The schema file is version 2: found under the subject, not registered again.
    expect((await fetch(`${base}/subjects/user_activity-value/versions`).then((r) => r.json())) as number[]).toEqual([1, 2]);
    const bad = path.join(dir, 'bad.ndjson');
    writeFileSync(bad, JSON.stringify({ event_id: 'x', event_type: 'JUMP' }));
    const refused = await cli(['produce', 'user_activity', '--from', bad, '--schema', path.join(dir, 'contracts/user_activity.avsc'), '--project', dir]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/bad\.ndjson:1: cannot be encoded as avro: not a value of .*user_activity\.avsc \(at (user_id|event_type)/);
  });

  it('publishes a table’s rows as Avro, registered under <topic>-value', async () => {
    await lake.write('gold.kpis', "SELECT 'FR' AS pays, 12 AS n, 120.5 AS ca UNION ALL SELECT 'DE', 7, 70.25", { mode: 'append' });
    expect(await publishTable(lake, 'kpis')).toMatchObject({ sent: 2 });
    const log = await openLog(lake.config.log);
    try {
      const reader = await log.reader('kpis', new Map([[0, 0]]));
      const got = await reader.poll({ maxWaitMs: 1000 });
      await reader.close();
      const serde = createSerde({ kind: 'avro' }, 'test', { projectDir: dir, registry: () => new CatalogRegistryClient(lake.catalog.driver) });
      await serde.prepare?.(got.map((r) => r.value));
      expect(got.map((r) => serde.decode(r.value!)).sort((a, b) => String((a as { pays: string }).pays).localeCompare((b as { pays: string }).pays))).toEqual([
        { pays: 'DE', n: 7, ca: 70.25 },
        { pays: 'FR', n: 12, ca: 120.5 },
      ]);
    } finally {
      await log.close();
    }
    expect((await fetch(`${base}/subjects/kpis-value/versions`).then((r) => r.json())) as number[]).toEqual([1]);
  });

  it('encodes what Apache Avro’s Python library decodes, and decodes what it encodes', { timeout: 60_000 }, async () => {
    const registry = () => new CatalogRegistryClient(lake.catalog.driver);
    const serde = createSerde({ kind: 'avro', schema: 'contracts/user_activity.avsc', subject: 'user_activity-value' }, 'test', { projectDir: dir, registry });
    await serde.prepare?.([]);
    const value = { ...event(7, 'PURCHASE'), session_id: 's7' };
    const bytes = serde.encode(value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(2); // version 2's id: the schema file is that version
    const python = `
import io, json, sys, struct
import avro.io, avro.schema
schema = avro.schema.parse(open(sys.argv[1]).read())
data = sys.stdin.buffer.read()
assert data[0] == 0
(schema_id,) = struct.unpack('>I', data[1:5])
decoded = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))
out = io.BytesIO()
avro.io.DatumWriter(schema).write(dict(decoded, event_id='from-python'), avro.io.BinaryEncoder(out))
decoded['timestamp'] = round(decoded['timestamp'].timestamp() * 1000)
print(json.dumps({'id': schema_id, 'decoded': decoded, 'encoded': out.getvalue().hex()}))
`;
    const run = spawnSync('/usr/bin/python3', ['-c', python, path.join(dir, 'contracts/user_activity.avsc')], { input: bytes });
    expect(run.status, String(run.stderr)).toBe(0);
    const answer = JSON.parse(String(run.stdout)) as { id: number; decoded: unknown; encoded: string };
    expect(answer.id).toBe(2);
    expect(answer.decoded).toEqual(value);
    // Python's bytes behind the same header: Tributary reads them back.
    const theirs = Buffer.concat([bytes.subarray(0, 5), Buffer.from(answer.encoded, 'hex')]);
    await serde.prepare?.([theirs]);
    expect(serde.decode(theirs)).toEqual({ ...value, event_id: 'from-python' });
  });
});
