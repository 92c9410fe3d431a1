import { crc32 } from 'node:zlib';
import type { Headers } from '../log.js';

/**
 * One record on disk, little-endian:
 *   u32 length of what follows · u32 crc32 of what follows the crc · i64 offset · i64 timestamp (ms)
 *   i32 key length (-1: null) · key · i32 value length (-1: null) · value · i32 headers length (-1: none) · headers JSON
 * The length and crc let a reader tell a complete record from one still being written or torn by a crash.
 */
export interface Frame {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

const FIXED = 4 + 8 + 8 + 4 + 4 + 4;
/** The largest record the embedded log stores; a length field above it is damage, not a record to wait for. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function encodeFrame(frame: Frame): Buffer {
  const headers = Object.keys(frame.headers).length ? Buffer.from(JSON.stringify(frame.headers)) : null;
  const body = FIXED + (frame.key?.length ?? 0) + (frame.value?.length ?? 0) + (headers?.length ?? 0);
  const buf = Buffer.allocUnsafe(4 + body);
  buf.writeUInt32LE(body, 0);
  let at = 8;
  buf.writeBigInt64LE(BigInt(frame.offset), at);
  buf.writeBigInt64LE(BigInt(Math.trunc(frame.timestamp)), at + 8);
  at += 16;
  for (const part of [frame.key, frame.value, headers]) {
    buf.writeInt32LE(part ? part.length : -1, at);
    at += 4;
    if (part) {
      part.copy(buf, at);
      at += part.length;
    }
  }
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

export type Decoded = { frame: Frame; size: number } | { incomplete: true; need: number } | { corrupt: string };

/** Decodes the record starting at `at`; `incomplete` when the buffer ends before it does. Key and value are views of `buf`. */
export function decodeFrame(buf: Buffer, at: number): Decoded {
  if (buf.length - at < 4) return { incomplete: true, need: 4 };
  const body = buf.readUInt32LE(at);
  if (body < FIXED) return { corrupt: `record length ${body} is too small` };
  if (body > MAX_RECORD_BYTES) return { corrupt: `record length ${body} is larger than any record` };
  if (buf.length - at < 4 + body) return { incomplete: true, need: 4 + body };
  const end = at + 4 + body;
  if (crc32(buf.subarray(at + 8, end)) !== buf.readUInt32LE(at + 4)) return { corrupt: 'checksum mismatch' };
  let p = at + 8;
  const offset = Number(buf.readBigInt64LE(p));
  const timestamp = Number(buf.readBigInt64LE(p + 8));
  p += 16;
  const parts: (Buffer | null)[] = [];
  for (let i = 0; i < 3; i++) {
    const len = buf.readInt32LE(p);
    p += 4;
    if (len < 0) parts.push(null);
    else {
      if (p + len > end) return { corrupt: 'field overruns its record' };
      parts.push(buf.subarray(p, p + len));
      p += len;
    }
  }
  const headers = parts[2] ? (JSON.parse(parts[2].toString()) as Headers) : {};
  return { frame: { offset, timestamp, key: parts[0]!, value: parts[1]!, headers }, size: 4 + body };
}
