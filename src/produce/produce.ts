import { jsonSerde } from '../serdes/json.js';
import type { Serde } from '../serdes/index.js';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteLiteral } from '../engine/sql.js';
import { parseJson, plain } from '../util/lossless-json.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Log, ProduceRecord } from '../log/log.js';
import { SalesEventGenerator, type SalesEventOptions } from './sales-events.js';

export interface ProduceReport {
  topic: string;
  sent: number;
  bytes: number;
  /** Generator only: how many were late or poison pills. */
  late?: number;
  poison?: number;
}

export interface ProduceOptions {
  /** Called after each acknowledged batch with the running count. */
  onProgress?: (sent: number) => void;
  /** Stop early (Ctrl-C): what was generated is still sent and acknowledged before returning. */
  signal?: AbortSignal;
}

const BATCH_RECORDS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Publishes a file's records: each line of an NDJSON file as one record (the line as-is, so that a test can send
 * poison pills; empty lines skipped), or each element of a JSON array file (`[{…}, {…}]`, indented or not), streaming
 * the file either way. A file whose first line is not a record on its own (pretty-printed JSON that is not an array)
 * is refused, naming the line, instead of being sent as one record per line of it.
 */
export async function produceFile(
  log: Log,
  topic: string,
  file: string,
  options: ProduceOptions & { keyField?: string /** Default JSON: each line sent as it is. */; format?: Serde } = {},
): Promise<ProduceReport> {
  const format = options.format ?? jsonSerde;
  await format.prepare?.([]);
  if (!existsSync(file)) throw new TributaryError('SOURCE_NOT_FOUND', `--from: ${file} does not exist`);
  const producer = await log.producer();
  const report: ProduceReport = { topic, sent: 0, bytes: 0 };
  let batch: ProduceRecord[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await producer.send(batch);
    report.sent += batch.length;
    report.bytes += batchBytes;
    batch = [];
    batchBytes = 0;
    options.onProgress?.(report.sent);
  };
  try {
    const shape = await fileShape(file);
    if (shape === 'array') {
      let number = 0;
      for await (const text of arrayElements(file)) {
        number++;
        if (options.signal?.aborted) break;
        batch.push({ topic, key: options.keyField ? keyOf(text, options.keyField) : null, value: encodeLine(format, text, `${file} record`, number) });
        batchBytes += text.length;
        if (batch.length >= BATCH_RECORDS || batchBytes >= BATCH_BYTES) await flush();
      }
      await flush();
      return report;
    }
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let number = 0;
    for await (const line of lines) {
      number++;
      if (options.signal?.aborted) break;
      if (line.trim() === '') continue;
      batch.push({ topic, key: options.keyField ? keyOf(line, options.keyField) : null, value: encodeLine(format, line, file, number) });
      batchBytes += line.length;
      if (batch.length >= BATCH_RECORDS || batchBytes >= BATCH_BYTES) await flush();
    }
    await flush();
  } finally {
    await producer.close();
  }
  return report;
}

/** What a file holds: a JSON array, or lines (NDJSON); pretty-printed JSON that is neither is refused. */
async function fileShape(file: string): Promise<'array' | 'lines'> {
  const lines = createInterface({ input: createReadStream(file, { end: 1024 * 1024 }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const text = line.trim();
      if (text === '') continue;
      if (text.startsWith('[')) return 'array';
      // A line that opens an object and nothing else is pretty-printed JSON; any other first line (a poison pill
      // included) is a record of an NDJSON file, sent as it is.
      if (text === '{') {
        throw new TributaryError('INVALID_INPUT', `--from ${file}: line 1 is not a record on its own ("{"): the file looks like pretty-printed JSON`, {
          hint: 'give one record per line (NDJSON), or a JSON array of records (`[{…}, {…}]`)',
        });
      }
      return 'lines';
    }
    return 'lines';
  } finally {
    lines.close();
  }
}

/** The elements of a JSON array file, each as its JSON text, streamed by DuckDB's JSON reader. */
async function* arrayElements(file: string): AsyncIterable<string> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    let result: Awaited<ReturnType<typeof connection.stream>>;
    try {
      result = await connection.stream(`SELECT json FROM read_json_objects(${quoteLiteral(file)}, format = 'array', maximum_object_size = 268435456)`);
    } catch (err) {
      throw new TributaryError('INVALID_INPUT', `--from ${file}: not a JSON array of records: ${errorMessage(err).split('\n')[0]}`);
    }
    for (;;) {
      let chunk: Awaited<ReturnType<typeof result.fetchChunk>>;
      try {
        chunk = await result.fetchChunk();
      } catch (err) {
        throw new TributaryError('INVALID_INPUT', `--from ${file}: not a JSON array of records: ${errorMessage(err).split('\n')[0]}`);
      }
      if (!chunk || chunk.rowCount === 0) break;
      // An indented array's elements span lines: each is sent on one line (integers beyond 2^53 kept exact).
      for (const row of chunk.getRows()) {
        const text = String(row[0]);
        // A line break inside valid JSON is whitespace between tokens: a space keeps the record exactly as written.
        yield text.replace(/\r?\n|\r/g, ' ');
      }
    }
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

/** A line as a record in `format`: the format's own reading of text, or the line parsed as JSON and encoded. */
function encodeLine(format: Serde, line: string, file: string, number: number): Buffer {
  if (format.fromText) return format.fromText(line);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new TributaryError('INVALID_INPUT', `${file}:${number}: not JSON, so it cannot be encoded as ${format.kind}`);
  }
  try {
    return format.encode(value);
  } catch (err) {
    throw new TributaryError('INVALID_INPUT', `${file}:${number}: cannot be encoded as ${format.kind}: ${errorMessage(err)}`);
  }
}

function keyOf(line: string, field: string): string | null {
  try {
    // Read without losing integers beyond 2^53 (ids): two such keys must not become one.
    const v = plain((parseJson(line) as Record<string, unknown>)[field]);
    return v === undefined || v === null ? null : typeof v === 'string' ? v : String(v);
  } catch {
    return null;
  }
}

export interface GenerateOptions extends SalesEventOptions {
  /** Events per second (default 100). */
  rate?: number;
  /** Stop after this many (default: until stopped). */
  count?: number;
  /**
   * true (default): real time, events are stamped with the wall clock. false: as fast as possible, on a virtual clock
   * starting at `start` and advancing 1/rate s per event (history at any speed).
   */
  pace?: boolean;
  start?: number;
}

/** Publishes generated sales events (see SalesEventGenerator), keyed by country. */
export async function produceGenerated(log: Log, topic: string, options: GenerateOptions & ProduceOptions = {}): Promise<ProduceReport> {
  const rate = options.rate ?? 100;
  if (!(rate > 0)) throw new TributaryError('INVALID_INPUT', `--rate must be a positive number of events per second, got ${rate}`);
  const count = options.count ?? Infinity;
  await options.format?.prepare?.([]);
  const generator = new SalesEventGenerator(options);
  const producer = await log.producer();
  const report: ProduceReport = { topic, sent: 0, bytes: 0, late: 0, poison: 0 };
  const pace = options.pace ?? true;
  const begin = Date.now();
  const start = options.start ?? begin;
  let generated = 0;
  try {
    while (generated < count && !options.signal?.aborted) {
      let due: number;
      if (pace) {
        due = Math.min(count, Math.floor(((Date.now() - begin) * rate) / 1000) + 1) - generated;
        if (due <= 0) {
          await sleep(Math.max(1, Math.min(20, 1000 / rate)));
          continue;
        }
      } else {
        due = Math.min(count - generated, BATCH_RECORDS);
      }
      const batch: ProduceRecord[] = [];
      for (let i = 0; i < Math.min(due, 10 * BATCH_RECORDS); i++) {
        const now = pace ? Date.now() : start + (generated * 1000) / rate;
        const e = generator.next(now);
        generated++;
        if (e.kind === 'late') report.late!++;
        if (e.kind === 'poison') report.poison!++;
        report.bytes += e.value.length;
        batch.push({ topic, key: e.key, value: e.value });
      }
      if (batch.length) await producer.send(batch);
      report.sent += batch.length;
      options.onProgress?.(report.sent);
    }
  } finally {
    await producer.close();
  }
  return report;
}
