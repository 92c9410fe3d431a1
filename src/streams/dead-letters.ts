import { serdeContextOf } from '../registry/open.js';
import type { Serde } from '../serdes/index.js';
import { readFileSync } from 'node:fs';
import type { ResolvedConfig } from '../config/types.js';
import { TributaryError } from '../errors.js';
import { Lake } from '../lake/lake.js';
import type { Log, ProduceRecord } from '../log/log.js';
import { openLog } from '../log/open.js';
import { requireStream } from './definition.js';

export interface DeadLetterEntry {
  topic: string;
  partition: number;
  offset: number;
  timestamp: Date;
  errorCode: string;
  error: string;
  /** The payload as text when it is UTF-8 and at most 64 KiB; see `bytes` for its size. */
  payloadText: string | null;
  bytes: number;
  failedAt: Date;
  replayedAt: Date | undefined;
}

/** A stream's dead letters, oldest first, with whether each was re-injected. */
export async function listDeadLetters(config: ResolvedConfig, name: string, options: { pending?: boolean } = {}): Promise<DeadLetterEntry[]> {
  const stream = requireStream(config.streams, name, { projectDir: config.projectDir });
  const lake = await Lake.open(config);
  try {
    if (!(await lake.catalog.getTable(stream.dlqTable))) return [];
    await lake.mount([stream.dlqTable]);
    const rows = await lake.engine.all(
      `SELECT "topic", "partition", "offset", "timestamp", error_code, error, payload_text, coalesce(octet_length(payload), 0) AS bytes, failed_at
         FROM ${stream.dlqTable} ORDER BY failed_at, "partition", "offset"`,
    );
    const replays = await lake.catalog.streams.dlqReplays(name);
    const entries = rows.map((r) => ({
      topic: String(r.topic),
      partition: Number(r.partition),
      offset: Number(r.offset),
      timestamp: r.timestamp as Date,
      errorCode: String(r.error_code),
      error: String(r.error),
      payloadText: (r.payload_text as string | null) ?? null,
      bytes: Number(r.bytes),
      failedAt: r.failed_at as Date,
      replayedAt: replays.get(`${String(r.topic)}/${Number(r.partition)}/${Number(r.offset)}`)?.replayedAt,
    }));
    return options.pending ? entries.filter((e) => !e.replayedAt) : entries;
  } finally {
    await lake.close();
  }
}

export interface DeadLetterReplayReport {
  stream: string;
  topic: string;
  replayed: number;
  edited: number;
  skipped: number;
}

/**
 * Re-injects dead letters into the stream's source topic, once each: either as they were (after the definition was
 * fixed), or with corrected payloads from an NDJSON file of `{"partition", "offset", "payload"}` lines (as
 * `tributary dlq ls --json` prints them, payload edited). At least once: a crash between publishing and recording
 * may publish an entry again.
 */
export async function replayDeadLetters(
  config: ResolvedConfig,
  name: string,
  options: { file?: string; only?: { partition: number; offset: number }[]; log?: Log } = {},
): Promise<DeadLetterReplayReport> {
  const lake = await Lake.open(config);
  let stream: ReturnType<typeof requireStream>;
  let edits: ReturnType<typeof readEdits> | undefined;
  try {
    stream = requireStream(config.streams, name, serdeContextOf(lake));
    await stream.format.prepare?.([]);
    edits = options.file ? readEdits(options.file, stream.format) : undefined;
  } catch (err) {
    await lake.close();
    throw err;
  }
  const log = options.log ?? (await openLog(config.log));
  const producer = await log.producer();
  try {
    const report: DeadLetterReplayReport = { stream: name, topic: stream.topic, replayed: 0, edited: 0, skipped: 0 };
    if (!(await lake.catalog.getTable(stream.dlqTable))) return report;
    await lake.mount([stream.dlqTable]);
    // Dead letters written before headers were kept have none (the column may not exist in any file yet).
    const columns = (await lake.engine.describe(`SELECT * FROM ${stream.dlqTable}`)).map((c) => c.name);
    const headersColumn = columns.includes('headers') ? '"headers"' : 'NULL AS "headers"';
    const rows = await lake.engine.all(
      `SELECT "topic", "partition", "offset", "key", payload, ${headersColumn} FROM ${stream.dlqTable} ORDER BY "partition", "offset"`,
    );
    const sourcePartitions = (await log.partitions(stream.topic)) ?? 0;
    const replays = await lake.catalog.streams.dlqReplays(name);
    const wanted = edits ?? (options.only ? new Map(options.only.map((o) => [`${o.partition}/${o.offset}`, undefined])) : undefined);
    const records: ProduceRecord[] = [];
    const done: { partition: number; offset: number; edited: boolean }[] = [];
    for (const r of rows) {
      const id = `${Number(r.partition)}/${Number(r.offset)}`;
      if (wanted && !wanted.has(id)) continue;
      if (replays.has(`${String(r.topic)}/${id}`) && !edits) {
        report.skipped++;
        continue;
      }
      const edited = edits?.get(id);
      const value = edited ?? (r.payload instanceof Uint8Array ? Buffer.from(r.payload) : null);
      const key = r.key instanceof Uint8Array ? Buffer.from(r.key) : null;
      // Back where it came from: its partition (while the topic has it), its key and its own headers, plus ours.
      const original = typeof r.headers === 'string' ? (JSON.parse(r.headers) as Record<string, string>) : {};
      const partition = Number(r.partition);
      records.push({
        topic: stream.topic,
        ...(String(r.topic) === stream.topic && partition < sourcePartitions ? { partition } : {}),
        key,
        value,
        headers: { ...original, 'tributary.replayed-from': `${String(r.topic)}/${id}` },
      });
      done.push({ partition: Number(r.partition), offset: Number(r.offset), edited: edited !== undefined });
      wanted?.delete(id);
    }
    const missing = wanted ? [...wanted.keys()] : [];
    if (missing.length) {
      throw new TributaryError('NOT_FOUND', `no dead letter of ${name} at partition/offset ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? '…' : ''}`, {
        hint: `see tributary dlq ls ${name}`,
      });
    }
    if (records.length) {
      await producer.send(records);
      await lake.catalog.streams.recordDlqReplays(name, String(rows[0]!.topic), done);
    }
    report.replayed = records.length;
    report.edited = done.filter((d) => d.edited).length;
    return report;
  } finally {
    await producer.close();
    if (!options.log) await log.close().catch(() => undefined);
    await lake.close();
  }
}

/** Corrected payloads by `partition/offset`; a payload may be a JSON string or an object. */
/** A payload given as text is sent as those bytes; one given as an object is encoded in the stream's format. */
function readEdits(file: string, format: Serde): Map<string, Buffer> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TributaryError('SOURCE_NOT_FOUND', `--file: cannot read ${file}: ${(err as Error).message}`);
  }
  const edits = new Map<string, Buffer>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let entry: { partition?: unknown; offset?: unknown; payload?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      throw new TributaryError('INVALID_INPUT', `${file}:${i + 1}: not a JSON object`);
    }
    if (!Number.isInteger(entry.partition) || !Number.isInteger(entry.offset) || entry.payload === undefined || entry.payload === null) {
      throw new TributaryError('INVALID_INPUT', `${file}:${i + 1}: expected {"partition": <int>, "offset": <int>, "payload": <string or object>}`);
    }
    edits.set(
      `${entry.partition as number}/${entry.offset as number}`,
      typeof entry.payload === 'string' ? Buffer.from(entry.payload) : format.encode(entry.payload),
    );
  });
  return edits;
}
