import {
  BLOB,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBDataChunk,
  DuckDBTimestampTZValue,
  INTEGER,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { TableChange } from '../catalog/types.js';
import type { Lake } from '../lake/lake.js';
import { OPEN_FOLDER } from '../lake/lake.js';
import { quoteIdent, quoteLiteral } from '../engine/sql.js';
import type { LogRecord } from '../log/log.js';
import type { CompiledOutput, CompiledStream } from './definition.js';
import type { BatchResult, DeadLetter, LateEvent, WindowRow } from './processor.js';
import { eventTimeOf } from './decode.js';
import type { FieldType, StreamEvent } from '../config/types.js';
import { type ContractColumn, transformStructure } from '../registry/lake-columns.js';

/** Columns of the tables every stream writes besides its outputs. */
/**
 * The raw-landing buffer holds only what varies per record, in types a data chunk fills without a native call or a
 * BigInt per value (offsets and times as doubles: exact below 2^53); the landed table gets its types in SQL.
 */
const RAW_BUFFER_COLUMNS = `"partition" INTEGER, "offset" DOUBLE, "timestamp_ms" DOUBLE, "key" BLOB, "value" BLOB, "headers" VARCHAR`;
const rawSelect = (topic: string, buffer: string) =>
  `SELECT ${quoteLiteral(topic)} AS "topic", "partition", CAST("offset" AS BIGINT) AS "offset", to_timestamp("timestamp_ms" / 1000) AS "timestamp", "key", "value", "headers" FROM ${buffer}`;
const DLQ_COLUMNS = `"topic" VARCHAR, "partition" INTEGER, "offset" BIGINT, "timestamp" TIMESTAMPTZ, "key" BLOB, "payload" BLOB, "payload_text" VARCHAR, "error_code" VARCHAR, "error" VARCHAR, "failed_at" TIMESTAMPTZ, "headers" VARCHAR`;
const LATE_COLUMNS = `"output" VARCHAR, "window_start" TIMESTAMPTZ, "window_end" TIMESTAMPTZ, "event_time" TIMESTAMPTZ, "watermark" TIMESTAMPTZ, "topic" VARCHAR, "partition" INTEGER, "offset" BIGINT, "event" VARCHAR, "reason" VARCHAR, "recorded_at" TIMESTAMPTZ`;

/** Dead letters keep their bytes; `payload_text` shows them when they are UTF-8 and not too long to read. */
const PAYLOAD_TEXT_MAX = 64 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Writes a batch's rows as new lake files (not yet visible) and describes them as table changes, for the
 * caller to commit together with the checkpoint. Rows go through DuckDB appenders into in-memory buffer tables,
 * then out as Parquet; nothing is held in JS beyond one batch.
 */
export class LakeSink {
  private readonly buffers = new Map<string, string>();
  /** What is written from each buffer (by default, its rows as they are). */
  private readonly selects = new Map<string, string>();

  private constructor(
    private readonly lake: Lake,
    private readonly stream: CompiledStream,
    private readonly outputs: readonly CompiledOutput[],
    private readonly outputsOnly: boolean,
  ) {}

  static async open(lake: Lake, stream: CompiledStream, options: { outputs?: readonly CompiledOutput[]; outputsOnly?: boolean } = {}): Promise<LakeSink> {
    const sink = new LakeSink(lake, stream, options.outputs ?? stream.outputs, options.outputsOnly ?? false);
    await sink.lake.engine.run(`CREATE SCHEMA IF NOT EXISTS _stream_buffers`);
    if (!sink.outputsOnly) {
      if (stream.landing) {
        await sink.buffer(stream.landing, RAW_BUFFER_COLUMNS);
        sink.selects.set(stream.landing, rawSelect(stream.topic, sink.buffers.get(stream.landing)!));
      }
      if (stream.events?.contract) {
        // Events of a contract: each as JSON text, given the contract's types (nested ones too) by json_transform.
        await sink.buffer(stream.events.table, CONTRACT_EVENT_BUFFER);
        sink.selects.set(stream.events.table, contractEventsSelect(stream.events.contract, sink.buffers.get(stream.events.table)!));
      } else if (stream.events) await sink.buffer(stream.events.table, eventColumns(stream.events.columns));
      await sink.buffer(stream.dlqTable, DLQ_COLUMNS);
      await sink.buffer(stream.lateTable, LATE_COLUMNS);
    }
    for (const o of sink.outputs) await sink.buffer(o.table, outputColumns(o));
    return sink;
  }

  /**
   * Writes the batch's files. `openFiles` are the on-update tables' current open-window files, replaced by new ones;
   * returns the changes to commit and the open files after them.
   */
  async write(batch: BatchResult, openFiles: Record<string, string[]>): Promise<{ changes: TableChange[]; openFiles: Record<string, string[]> }> {
    const changes: TableChange[] = [];
    const nextOpen: Record<string, string[]> = { ...openFiles };
    if (!this.outputsOnly) {
      if (this.stream.landing && batch.records.length) changes.push(await this.flush(this.stream.landing, (a) => appendRaw(a, batch.records)));
      const events = this.stream.events;
      if (events && batch.events.length)
        changes.push(
          await this.flush(events.table, (a) =>
            events.contract ? appendContractEvents(a, events.contract, batch.events) : appendEvents(a, events.columns, batch.events),
          ),
        );
      if (batch.deadLetters.length) changes.push(await this.flush(this.stream.dlqTable, (a) => appendDeadLetters(a, batch.deadLetters)));
      if (batch.late.length) changes.push(await this.flush(this.stream.lateTable, (a) => appendLate(a, batch.late)));
    }
    for (const o of this.outputs) {
      const closed = batch.closed.get(o.table) ?? [];
      const open = o.emit === 'on-update' ? (batch.open.get(o.table) ?? []) : undefined;
      const change: TableChange | undefined = closed.length ? await this.flush(o.table, (a) => appendWindows(a, o, closed)) : undefined;
      if (open === undefined) {
        if (change) changes.push(change);
        continue;
      }
      // On-update: the open windows live in one replaceable file set, swapped atomically with this commit.
      const previous = openFiles[o.table] ?? [];
      if (open.length === 0 && previous.length === 0) {
        if (change) changes.push(change);
        continue;
      }
      const written = open.length ? await this.flush(o.table, (a) => appendWindows(a, o, open), OPEN_FOLDER) : undefined;
      nextOpen[o.table] = written?.addFiles.map((f) => f.path) ?? [];
      const base = change ??
        written ?? {
          table: o.table,
          operation: 'append',
          addFiles: [],
          schema: await this.lake.engine.describe(`SELECT * FROM ${this.buffers.get(o.table)!}`),
        };
      changes.push({
        ...base,
        addFiles: [...(change?.addFiles ?? []), ...(written?.addFiles ?? [])],
        ...(previous.length ? { removeFiles: previous } : {}),
      });
    }
    return { changes, openFiles: nextOpen };
  }

  /** Changes creating, empty, the tables this sink writes that do not exist yet: queries work from the first batch. */
  async createMissing(except: readonly TableChange[]): Promise<TableChange[]> {
    const out: TableChange[] = [];
    for (const [table, buffer] of this.buffers) {
      if (except.some((c) => c.table === table) || (await this.lake.catalog.getTable(table))) continue;
      out.push({
        table,
        operation: 'create',
        addFiles: [],
        schema: await this.lake.engine.describe(this.selects.get(table) ?? `SELECT * FROM ${buffer}`),
        summary: { stream: this.stream.name },
      });
    }
    return out;
  }

  /** Loads window rows of an output into its (emptied) buffer table and returns the table's name, for SQL to read. */
  async stage(table: string, rows: readonly WindowRow[]): Promise<string> {
    const output = this.outputs.find((o) => o.table === table)!;
    const buffer = this.buffers.get(table)!;
    await this.lake.engine.run(`DELETE FROM ${buffer}`);
    await this.append(table, (a) => appendWindows(a, output, rows));
    return buffer;
  }

  /** Deletes files written for a batch that was not committed. */
  async discard(changes: readonly TableChange[]): Promise<void> {
    await this.lake.abandon(changes.flatMap((c) => c.addFiles));
  }

  private async buffer(table: string, columns: string): Promise<void> {
    const name = `_stream_buffers.${quoteIdent(table.replace('.', '__'))}`;
    await this.lake.engine.run(`CREATE OR REPLACE TABLE ${name} (${columns})`);
    this.buffers.set(table, name);
  }

  private async append(table: string, fill: (appender: DuckDBAppender) => void): Promise<void> {
    const appender = await this.lake.engine.connection.createAppender(table.replace('.', '__'), '_stream_buffers');
    try {
      fill(appender);
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  private async flush(table: string, fill: (appender: DuckDBAppender) => void, folder?: string): Promise<TableChange> {
    const buffer = this.buffers.get(table)!;
    await this.append(table, fill);
    try {
      const written = await this.lake.writeFiles(table, this.selects.get(table) ?? `SELECT * FROM ${buffer}`, folder ? { folder } : {});
      return this.lake.change(written, 'append', { stream: this.stream.name });
    } finally {
      await this.lake.engine.run(`DELETE FROM ${buffer}`);
    }
  }
}

function outputColumns(o: CompiledOutput): string {
  return [
    `"window_start" TIMESTAMPTZ`,
    `"window_end" TIMESTAMPTZ`,
    ...o.groupBy.map((g, i) => `${quoteIdent(g)} ${o.groupTypes[i]}`),
    ...o.aggregates.map((a) => `${quoteIdent(a.name)} ${a.spec.fn === 'count' ? 'BIGINT' : 'DOUBLE'}`),
    ...(o.emit === 'on-update' ? [`"is_final" BOOLEAN`] : []),
  ].join(', ');
}

const EVENT_TYPES: Record<FieldType, string> = { string: 'VARCHAR', number: 'DOUBLE', integer: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'TIMESTAMPTZ' };

function eventColumns(columns: readonly { name: string; type: FieldType }[]): string {
  return [...columns.map((c) => `${quoteIdent(c.name)} ${EVENT_TYPES[c.type]}`), `"topic" VARCHAR`, `"partition" INTEGER`, `"offset" BIGINT`].join(', ');
}

const CONTRACT_EVENT_BUFFER = `"event" VARCHAR, "topic" VARCHAR, "partition" INTEGER, "offset" BIGINT`;

/** The contract's columns out of each event's JSON (strict: a value that does not fit fails loudly, never a NULL). */
function contractEventsSelect(columns: readonly ContractColumn[], buffer: string): string {
  const blobs = new Set(columns.filter((c) => c.type === 'BLOB').map((c) => c.name));
  // BLOBs travel as base64 (JSON has no bytes) and are decoded here.
  const structure = transformStructure(columns.map((c) => (blobs.has(c.name) ? { ...c, type: 'VARCHAR' } : c)));
  const list = columns.map((c) =>
    blobs.has(c.name) ? `from_base64(e.r.${quoteIdent(c.name)}) AS ${quoteIdent(c.name)}` : `e.r.${quoteIdent(c.name)} AS ${quoteIdent(c.name)}`,
  );
  return `SELECT ${list.join(', ')}, e."topic", e."partition", e."offset" FROM (SELECT json_transform_strict("event", ${quoteLiteral(structure)}) AS r, "topic", "partition", "offset" FROM ${buffer}) AS e`;
}

function appendContractEvents(a: DuckDBAppender, columns: readonly ContractColumn[], events: readonly { record: LogRecord; event: StreamEvent }[]): void {
  for (const { record, event } of events) {
    const row: Record<string, unknown> = {};
    for (const c of columns) {
      const v = event[c.name];
      row[c.name] = v === undefined || v === null ? null : c.toJson(v);
    }
    a.appendVarchar(JSON.stringify(row));
    a.appendVarchar(record.topic);
    a.appendInteger(record.partition);
    a.appendBigInt(BigInt(record.offset));
    a.endRow();
  }
}

/** The declared fields of each event, typed (the checks already refused values of another type). */
function appendEvents(
  a: DuckDBAppender,
  columns: readonly { name: string; type: FieldType }[],
  events: readonly { record: LogRecord; event: StreamEvent }[],
): void {
  for (const { record, event } of events) {
    for (const c of columns) {
      const v = event[c.name];
      if (v === undefined || v === null) {
        a.appendNull();
        continue;
      }
      if (c.type === 'string') a.appendVarchar(typeof v === 'string' ? v : JSON.stringify(v));
      else if (c.type === 'number') a.appendDouble(Number(v));
      else if (c.type === 'integer') a.appendBigInt(BigInt(v as number | bigint));
      else if (c.type === 'boolean') a.appendBoolean(Boolean(v));
      else {
        const ms = eventTimeOf(v);
        if (ms === undefined) a.appendNull();
        else a.appendTimestampTZ(ts(ms));
      }
    }
    a.appendVarchar(record.topic);
    a.appendInteger(record.partition);
    a.appendBigInt(BigInt(record.offset));
    a.endRow();
  }
}

function ts(ms: number): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(BigInt(Math.round(ms)) * 1000n);
}

function blobOrNull(a: DuckDBAppender, value: Buffer | null): void {
  if (value === null) a.appendNull();
  else a.appendBlob(value);
}

function textOrNull(a: DuckDBAppender, value: string | null): void {
  if (value === null) a.appendNull();
  else a.appendVarchar(value);
}

function appendSource(a: DuckDBAppender, r: LogRecord): void {
  a.appendVarchar(r.topic);
  a.appendInteger(r.partition);
  a.appendBigInt(BigInt(r.offset));
  a.appendTimestampTZ(ts(r.timestamp));
}

const RAW_TYPES = [INTEGER, DOUBLE, DOUBLE, BLOB, BLOB, VARCHAR];
/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

/** The raw landing is the widest per-record write: whole columns per data chunk, ~1.5× faster than value by value. */
function appendRaw(a: DuckDBAppender, records: readonly LogRecord[]): void {
  for (let from = 0; from < records.length; from += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, records.length - from);
    const columns: DuckDBValue[][] = RAW_TYPES.map(() => new Array<DuckDBValue>(n));
    for (let i = 0; i < n; i++) {
      const r = records[from + i]!;
      columns[0]![i] = r.partition;
      columns[1]![i] = r.offset;
      columns[2]![i] = r.timestamp;
      columns[3]![i] = r.key === null ? null : new DuckDBBlobValue(r.key);
      columns[4]![i] = r.value === null ? null : new DuckDBBlobValue(r.value);
      columns[5]![i] = Object.keys(r.headers).length ? JSON.stringify(r.headers) : null;
    }
    const chunk = DuckDBDataChunk.create(RAW_TYPES, n);
    chunk.setColumns(columns);
    a.appendDataChunk(chunk);
  }
}

function appendDeadLetters(a: DuckDBAppender, letters: readonly DeadLetter[]): void {
  const now = ts(Date.now());
  for (const { record: r, failure } of letters) {
    appendSource(a, r);
    blobOrNull(a, r.key);
    blobOrNull(a, r.value);
    textOrNull(a, r.value ? readableText(r.value) : null);
    a.appendVarchar(failure.code);
    a.appendVarchar(failure.message);
    a.appendTimestampTZ(now);
    // The record's own headers, as JSON: `dlq replay` sends them back with the record.
    textOrNull(a, Object.keys(r.headers).length ? JSON.stringify(r.headers) : null);
    a.endRow();
  }
}

function readableText(bytes: Buffer): string | null {
  if (bytes.length > PAYLOAD_TEXT_MAX) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

function appendLate(a: DuckDBAppender, late: readonly LateEvent[]): void {
  const now = ts(Date.now());
  for (const l of late) {
    a.appendVarchar(l.output);
    a.appendTimestampTZ(ts(l.windowStart));
    a.appendTimestampTZ(ts(l.windowEnd));
    a.appendTimestampTZ(ts(l.eventTime));
    a.appendTimestampTZ(ts(l.watermark));
    a.appendVarchar(l.record.topic);
    a.appendInteger(l.record.partition);
    a.appendBigInt(BigInt(l.record.offset));
    a.appendVarchar(JSON.stringify(l.event));
    a.appendVarchar(
      `window [${new Date(l.windowStart).toISOString()}, ${new Date(l.windowEnd).toISOString()}) of ${l.output} was closed: watermark ${new Date(l.watermark).toISOString()}`,
    );
    a.appendTimestampTZ(now);
    a.endRow();
  }
}

function appendWindows(a: DuckDBAppender, o: CompiledOutput, rows: readonly WindowRow[]): void {
  for (const row of rows) {
    a.appendTimestampTZ(ts(row.start));
    a.appendTimestampTZ(ts(row.end));
    for (let i = 0; i < o.groupBy.length; i++) {
      const v = row.keys[i];
      const type = o.groupTypes[i];
      const n = type === 'DOUBLE' || type === 'BIGINT' ? Number(v) : 0;
      // A `map` may turn a declared number into something else: NULL, rather than a batch that can never commit.
      if (v === null || v === undefined || !Number.isFinite(n)) a.appendNull();
      else if (type === 'DOUBLE') a.appendDouble(n);
      else if (type === 'BIGINT') a.appendBigInt(BigInt(Math.trunc(n)));
      else if (type === 'BOOLEAN') a.appendBoolean(Boolean(v));
      else a.appendVarchar(typeof v === 'string' ? v : JSON.stringify(v));
    }
    for (let i = 0; i < o.aggregates.length; i++) {
      const v = row.values[i];
      if (v === null || v === undefined) a.appendNull();
      else if (o.aggregates[i]!.spec.fn === 'count') a.appendBigInt(BigInt(v));
      else a.appendDouble(v);
    }
    if (o.emit === 'on-update') a.appendBoolean(row.final);
    a.endRow();
  }
}
