import type { AddressInfo } from 'node:net';
import { AvroDeserializer, AvroSerializer, Compatibility, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig, resolveConfig } from '../src/config/load.js';
import { serdeContext } from '../src/registry/open.js';
import { createSerde } from '../src/serdes/index.js';
import { Lake } from '../src/lake/lake.js';
import { SchemaRegistry } from '../src/registry/registry.js';
import { buildServer } from '../src/serve/server.js';
import { PG_URL, freePort, startCli, tempDir } from './support/helpers.js';
import { openTestLake } from './support/project.js';
import { USER_ACTIVITY } from './support/schemas.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

// The embedded schema registry against Confluent's own JavaScript client and Avro serializer, configured as for
// Confluent's server; then the standalone `tributary registry` process sharing a PostgreSQL catalog.
const withField = (field: Record<string, unknown>) => ({ ...USER_ACTIVITY, fields: [...USER_ACTIVITY.fields, field] });
const avro = (schema: unknown) => ({ schemaType: 'AVRO', schema: JSON.stringify(schema) });

let base: string;
let close: () => Promise<void>;
let client: SchemaRegistryClient;

async function call(method: string, url: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.headers.get('content-type')).toContain('application/vnd.schemaregistry.v1+json');
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const { lake } = await openTestLake();
  const { app } = await buildServer(lake);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/registry`;
  close = () => app.close();
  client = new SchemaRegistryClient({ baseURLs: [base], maxRetries: 0 });
});
afterAll(async () => close?.());

describe('the schema registry, by Confluent’s client', () => {
  it('registers, gives one id to one schema under two subjects, fetches by id, subject and version', async () => {
    const id = await client.register('user_activity-value', avro(USER_ACTIVITY));
    expect(id).toBe(1);
    // The same schema written differently (whitespace) is the same schema.
    expect(await client.register('user_activity-value', { schemaType: 'AVRO', schema: JSON.stringify(USER_ACTIVITY, null, 2) })).toBe(1);
    expect(await client.register('archive-value', avro(USER_ACTIVITY))).toBe(1);
    const byId = await client.getBySubjectAndId('user_activity-value', 1);
    expect(JSON.parse(byId.schema)).toEqual(USER_ACTIVITY);
    const latest = await client.getLatestSchemaMetadata('user_activity-value');
    expect(latest).toMatchObject({ id: 1, version: 1, subject: 'user_activity-value' });
    expect(await client.getId('archive-value', avro(USER_ACTIVITY))).toBe(1);
    expect((await client.getAllSubjects()).sort()).toEqual(['archive-value', 'user_activity-value']);
    expect(await client.getAllVersions('user_activity-value')).toEqual([1]);
    expect((await call('GET', '/schemas/ids/1/versions')).body).toEqual([
      { subject: 'archive-value', version: 1 },
      { subject: 'user_activity-value', version: 1 },
    ]);
  });

  it('checks compatibility under each level, and refuses a breaking schema with 409', async () => {
    const optional = withField({ name: 'session_id', type: ['null', 'string'], default: null });
    const required = withField({ name: 'session_id', type: 'string' });
    expect(await client.getDefaultCompatibility()).toBe('BACKWARD');
    expect(await client.testSubjectCompatibility('user_activity-value', avro(optional))).toBe(true);
    expect(await client.testSubjectCompatibility('user_activity-value', avro(required))).toBe(false);
    const verbose = await call('POST', '/compatibility/subjects/user_activity-value/versions/latest?verbose=true', avro(required));
    expect(verbose.body.is_compatible).toBe(false);
    expect(String((verbose.body.messages as string[])[0])).toContain('/fields/session_id: field session_id (string) is not written and has no default');
    await expect(client.register('user_activity-value', avro(required))).rejects.toMatchObject({ status: 409, errorCode: 409 });
    expect(await client.register('user_activity-value', avro(optional))).toBe(2);

    // FORWARD: the old schema must read the new one's data — a removed field without a default in the old is refused.
    expect(await client.updateCompatibility('user_activity-value', Compatibility.FORWARD)).toBe('FORWARD');
    const withoutPage = { ...USER_ACTIVITY, fields: USER_ACTIVITY.fields.filter((f) => f.name !== 'event_id') };
    expect(await client.testSubjectCompatibility('user_activity-value', avro(withoutPage))).toBe(false);
    // Transitive: version 1 lacks session_id, so a version that needs it is refused against all, not against the latest.
    const needsSession = withField({ name: 'session_id', type: ['null', 'string'] });
    await client.updateCompatibility('user_activity-value', Compatibility.BACKWARD);
    expect(await client.testSubjectCompatibility('user_activity-value', avro(needsSession))).toBe(true);
    await client.updateCompatibility('user_activity-value', Compatibility.BACKWARD_TRANSITIVE);
    expect((await call('POST', '/compatibility/subjects/user_activity-value/versions', avro(needsSession))).body).toEqual({ is_compatible: false });
    expect(await client.getCompatibility('user_activity-value')).toBe('BACKWARD_TRANSITIVE');
    await client.updateCompatibility('user_activity-value', Compatibility.NONE);
    expect(await client.testSubjectCompatibility('user_activity-value', avro(needsSession))).toBe(true);
    expect((await call('PUT', '/config/user_activity-value', { compatibility: 'SIDEWAYS' })).body).toMatchObject({ error_code: 42203 });
    expect((await call('DELETE', '/config/user_activity-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call('GET', '/config/user_activity-value')).body).toMatchObject({ error_code: 40408 });
    expect((await call('GET', '/config/user_activity-value?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('serializes with Confluent’s Avro serializer and deserializes by schema id', async () => {
    // A client of its own, as a producer process has: the shared one holds version 1 as the latest in its cache.
    const producer = new SchemaRegistryClient({ baseURLs: [base], maxRetries: 0 });
    const serializer = new AvroSerializer(producer, SerdeType.VALUE, { useLatestVersion: true });
    const event = {
      event_id: 'e1',
      user_id: 'u7',
      event_type: 'PURCHASE',
      timestamp: 1_767_225_600_000,
      page_id: null,
      metadata: { source: 'web' },
      session_id: 's1',
    };
    const bytes = await serializer.serialize('user_activity', event);
    // The Confluent wire format: magic byte 0, the schema id (4 bytes, big-endian), the Avro binary.
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(2);
    const deserializer = new AvroDeserializer(new SchemaRegistryClient({ baseURLs: [base], maxRetries: 0 }), SerdeType.VALUE, {});
    const back = (await deserializer.deserialize('user_activity', bytes)) as Record<string, unknown>;
    expect(back).toEqual(event);
  });

  it('answers Confluent’s error codes', async () => {
    expect((await call('GET', '/subjects/nope/versions')).body).toMatchObject({ error_code: 40401 });
    expect((await call('GET', '/subjects/user_activity-value/versions/9')).body).toMatchObject({ error_code: 40402 });
    expect((await call('GET', '/subjects/user_activity-value/versions/zero')).body).toMatchObject({ error_code: 42202 });
    expect((await call('GET', '/schemas/ids/99')).status).toBe(404);
    expect((await call('GET', '/schemas/ids/99')).body).toMatchObject({ error_code: 40403 });
    expect((await call('POST', '/subjects/user_activity-value', avro({ type: 'record', name: 'Other', fields: [] }))).body).toMatchObject({
      error_code: 40403,
    });
    const invalid = await call('POST', '/subjects/x-value/versions', {
      schema: '{"type": "record", "name": "Bad", "fields": [{"name": "a", "type": "nope"}]}',
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ error_code: 42201 });
    expect((await call('POST', '/subjects/x-value/versions', { schema: '{}', schemaType: 'PROTOBUF' })).body).toMatchObject({ error_code: 42201 });
    expect((await call('GET', '/schemas/types')).body).toEqual(['AVRO', 'JSON']);
  });

  it('soft-deletes, then deletes for good; ids stay readable; references are resolved and protect what they use', async () => {
    const eventType = { type: 'enum', name: 'EventType', namespace: 'com.monitoring.streaming', symbols: ['CLICK', 'VIEW'] };
    expect(await client.register('event_type', avro(eventType))).toBeGreaterThan(0);
    const holder = {
      type: 'record',
      name: 'Click',
      namespace: 'com.monitoring.streaming',
      fields: [{ name: 'kind', type: 'com.monitoring.streaming.EventType' }],
    };
    const registered = await call('POST', '/subjects/click-value/versions', {
      ...avro(holder),
      references: [{ name: 'EventType', subject: 'event_type', version: 1 }],
    });
    expect(registered.status).toBe(200);
    expect((await call('GET', `/schemas/ids/${registered.body.id}`)).body).toMatchObject({
      references: [{ name: 'EventType', subject: 'event_type', version: 1 }],
    });
    expect((await call('GET', '/subjects/event_type/versions/1/referencedby')).body).toEqual([registered.body.id]);
    expect((await call('DELETE', '/subjects/event_type')).body).toMatchObject({ error_code: 42206 });
    expect(
      (await call('POST', '/subjects/bad-ref/versions', { ...avro(holder), references: [{ name: 'EventType', subject: 'missing', version: 1 }] })).body,
    ).toMatchObject({
      error_code: 42201,
    });

    expect(await client.deleteSubject('archive-value')).toEqual([1]);
    expect(await client.getAllSubjects()).not.toContain('archive-value');
    expect((await call('GET', '/subjects?deleted=true')).body).toContain('archive-value');
    expect((await call('DELETE', '/subjects/archive-value')).body).toMatchObject({ error_code: 40404 });
    expect((await call('DELETE', '/subjects/user_activity-value?permanent=true')).body).toMatchObject({ error_code: 40405 });
    expect(await client.deleteSubject('archive-value', true)).toEqual([1]);
    expect((await call('GET', '/subjects?deleted=true')).body).not.toContain('archive-value');
    // The schema itself stays: data written with its id can still be read.
    expect((await call('GET', '/schemas/ids/1')).status).toBe(200);
    expect(await client.deleteSubjectVersion('user_activity-value', 2)).toBe(2);
    expect((await call('DELETE', '/subjects/user_activity-value/versions/2')).body).toMatchObject({ error_code: 40402 });
    expect(await client.getAllVersions('user_activity-value')).toEqual([1]);
  });
});

describe('tributary registry: a standalone process on a PostgreSQL catalog', () => {
  it('serves the registry the other processes of the catalog share', { timeout: 120_000 }, async () => {
    const schema = `t_registry_${process.pid}`;
    onTestFinished(async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    });
    const dir = tempDir('trib-registry-');
    writeFileSync(path.join(dir, 'tributary.config.mjs'), `export default { catalog: '${PG_URL}?schema=${schema}' };\n`);
    const port = await freePort();
    const registry = startCli(['registry', '--port', String(port), '--project', dir]);
    const deadline = Date.now() + 60_000;
    while (!registry.out().includes('schema registry of')) {
      if (Date.now() > deadline) throw new Error(`registry did not start: ${registry.out()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const standalone = new SchemaRegistryClient({ baseURLs: [`http://127.0.0.1:${port}`], maxRetries: 0 });
    expect(await standalone.register('user_activity-value', avro(USER_ACTIVITY))).toBe(1);
    // Another process of the catalog (here, this one) sees it, and what it registers the standalone one serves.
    const lake = await Lake.open(await loadConfig(dir, { required: true }));
    try {
      const shared = new SchemaRegistry(lake.catalog.driver);
      expect((await shared.version('user_activity-value', 'latest')).id).toBe(1);
      await shared.register('wikimedia_changes-value', {
        schema: JSON.stringify({
          type: 'record',
          name: 'WikimediaChange',
          namespace: 'com.monitoring.streaming',
          fields: [{ name: 'bot', type: 'boolean', default: false }],
        }),
      });
    } finally {
      await lake.close();
    }
    expect((await standalone.getLatestSchemaMetadata('wikimedia_changes-value')).id).toBe(2);

    // A project whose `registry` is that server's URL: its Avro format registers and reads there (no catalog of its own is opened).
    const other = tempDir('trib-registry-client-');
    writeFileSync(path.join(other, 'user_activity.avsc'), JSON.stringify(USER_ACTIVITY));
    const config = resolveConfig({ registry: `http://127.0.0.1:${port}` }, other, undefined);
    const serde = createSerde({ kind: 'avro', schema: 'user_activity.avsc', subject: 'from-http-value' }, 'test', {
      ...serdeContext(config, async () => {
        throw new Error('the embedded catalog is not used with an external registry');
      }),
    });
    await serde.prepare?.([]);
    const bytes = serde.encode({ event_id: 'e', user_id: 'u', event_type: 'VIEW', timestamp: 1, page_id: null, metadata: {} });
    expect(bytes.readInt32BE(1)).toBe(1);
    expect(await standalone.getAllVersions('from-http-value')).toEqual([1]);
    await serde.prepare?.([bytes]);
    expect(serde.decode(bytes)).toMatchObject({ event_id: 'e', event_type: 'VIEW' });
    registry.child.kill('SIGTERM');
    expect(await registry.exited).toBe(0);
  });
});
