/**
 * Decoding PostgreSQL's logical replication messages (the `pgoutput` plugin, protocol version 1), as
 * `pg_logical_slot_peek_binary_changes` returns them: one message per row. Column values come in PostgreSQL's text
 * output format (what COPY writes), so the change rows can go the same way as a table's rows: a CSV DuckDB reads.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */

/** A value an update left alone that was stored out of line (TOAST): pgoutput does not send it. */
export const UNCHANGED = Symbol('unchanged toast value');
export type TupleValue = string | null | typeof UNCHANGED;

export interface RelationColumn {
  name: string;
  /** Part of the replica identity (the primary key by default). */
  key: boolean;
  typeOid: number;
}

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTime: Date; xid: number }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint; commitTime: Date }
  | { tag: 'relation'; oid: number; namespace: string; name: string; columns: RelationColumn[] }
  | { tag: 'insert'; oid: number; row: TupleValue[] }
  | { tag: 'update'; oid: number; old: TupleValue[] | undefined; row: TupleValue[] }
  | { tag: 'delete'; oid: number; old: TupleValue[] }
  | { tag: 'truncate'; oids: number[] }
  | { tag: 'other'; code: string };

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000n;

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  byte(): string {
    return String.fromCharCode(this.buf[this.at++]!);
  }
  int8(): number {
    return this.buf.readInt8(this.at++);
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  uint64(): bigint {
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  time(): Date {
    const us = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return new Date(Number((us + PG_EPOCH_US) / 1000n));
  }
  string(): string {
    const end = this.buf.indexOf(0, this.at);
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  tuple(): TupleValue[] {
    const n = this.int16();
    const values: TupleValue[] = [];
    for (let i = 0; i < n; i++) {
      const kind = this.byte();
      if (kind === 'n') values.push(null);
      else if (kind === 'u') values.push(UNCHANGED);
      else {
        const len = this.int32();
        values.push(this.buf.toString('utf8', this.at, this.at + len));
        this.at += len;
      }
    }
    return values;
  }
}

export function decode(data: Buffer): PgOutputMessage {
  const r = new Reader(data);
  const tag = r.byte();
  switch (tag) {
    case 'B':
      return { tag: 'begin', finalLsn: r.uint64(), commitTime: r.time(), xid: r.int32() };
    case 'C': {
      r.int8(); // flags
      return { tag: 'commit', commitLsn: r.uint64(), endLsn: r.uint64(), commitTime: r.time() };
    }
    case 'R': {
      const oid = r.int32();
      const namespace = r.string();
      const name = r.string();
      r.int8(); // replica identity setting
      const n = r.int16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.int8();
        const column = r.string();
        const typeOid = r.int32();
        r.int32(); // typmod
        columns.push({ name: column, key: (flags & 1) === 1, typeOid });
      }
      return { tag: 'relation', oid, namespace, name, columns };
    }
    case 'I': {
      const oid = r.int32();
      r.byte(); // 'N'
      return { tag: 'insert', oid, row: r.tuple() };
    }
    case 'U': {
      const oid = r.int32();
      let kind = r.byte();
      let old: TupleValue[] | undefined;
      if (kind === 'K' || kind === 'O') {
        old = r.tuple();
        kind = r.byte();
      }
      return { tag: 'update', oid, old, row: r.tuple() };
    }
    case 'D': {
      const oid = r.int32();
      r.byte(); // 'K' or 'O'
      return { tag: 'delete', oid, old: r.tuple() };
    }
    case 'T': {
      const n = r.int32();
      r.int8(); // options
      const oids: number[] = [];
      for (let i = 0; i < n; i++) oids.push(r.int32());
      return { tag: 'truncate', oids };
    }
    default:
      return { tag: 'other', code: tag };
  }
}

/** `X/Y` (pg_lsn's text) as a number, and back. */
export function parseLsn(lsn: string): bigint {
  const [hi, lo] = lsn.split('/') as [string, string];
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
