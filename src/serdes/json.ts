import { z } from 'zod';
import type { Serde, SerdeFactory } from './serde.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON text in UTF-8; invalid UTF-8 is refused rather than turned into U+FFFD ("Fr��ance" would become a group of its own). */
export const jsonSerde: Serde = {
  kind: 'json',
  decode(bytes) {
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      throw new Error(`not valid UTF-8${at >= 0 ? ` at byte ${at}` : ''}`);
    }
    return JSON.parse(text) as unknown;
  },
  // BigInts (a `map` may produce them) as their digits: JSON has no other way to hold them exactly.
  encode: (value) => Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))),
  // A line of an NDJSON file is already a record: sent as it is, byte for byte (bad lines included, on purpose).
  fromText: (line) => Buffer.from(line),
};

export const jsonFormat: SerdeFactory<{ kind: 'json' }> = {
  kind: 'json',
  schema: z.strictObject({ kind: z.literal('json') }),
  create: () => jsonSerde,
};

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (-1: none). */
function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length) return i;
    for (let k = 1; k <= need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}
