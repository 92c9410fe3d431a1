import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const avsc = createRequire(import.meta.url)('avsc') as typeof import('avsc');

/**
 * An Avro object container file (the specification's "Object Container Files"), uncompressed, in one block: the
 * header (magic, file metadata with the writer's schema *as given* — Iceberg's `field-id` attributes included, which
 * avsc's own encoder would drop — and a sync marker), then the records encoded by avsc.
 */
export function avroContainer(schema: object, records: readonly unknown[], metadata: Record<string, string>): Buffer {
  const type = avsc.Type.forSchema(schema as never, { wrapUnions: 'auto' });
  const map = avsc.Type.forSchema({ type: 'map', values: 'bytes' } as never);
  const sync = randomBytes(16);
  const meta: Record<string, Buffer> = { 'avro.schema': Buffer.from(JSON.stringify(schema)), 'avro.codec': Buffer.from('null') };
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v);
  const long = avsc.Type.forSchema('long' as never);
  const parts: Buffer[] = [Buffer.from([0x4f, 0x62, 0x6a, 0x01]), map.toBuffer(meta), sync];
  if (records.length) {
    const body = Buffer.concat(records.map((r) => type.toBuffer(r)));
    parts.push(long.toBuffer(records.length), long.toBuffer(body.length), body, sync);
  }
  return Buffer.concat(parts);
}

/** Reads back a container file written by `avroContainer` (for tests and for repairs): its metadata and records. */
export function readAvroContainer(bytes: Buffer): { metadata: Record<string, string>; records: unknown[] } {
  if (bytes.subarray(0, 4).toString('latin1') !== 'Obj\x01') throw new Error('not an Avro container file');
  const map = avsc.Type.forSchema({ type: 'map', values: 'bytes' } as never);
  const long = avsc.Type.forSchema('long' as never);
  const header = map.decode(bytes, 4);
  if (header.offset < 0) throw new Error('truncated Avro header');
  const meta = header.value as Record<string, Buffer>;
  const metadata = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, v.toString()]));
  const type = avsc.Type.forSchema(JSON.parse(metadata['avro.schema']!) as never, { wrapUnions: 'auto' });
  let at = header.offset + 16;
  const records: unknown[] = [];
  while (at < bytes.length) {
    const count = long.decode(bytes, at);
    const size = long.decode(bytes, count.offset);
    let pos = size.offset;
    for (let i = 0; i < (count.value as number); i++) {
      const r = type.decode(bytes, pos);
      records.push(r.value);
      pos = r.offset;
    }
    at = size.offset + (size.value as number) + 16;
  }
  return { metadata, records };
}
