import { serdeContext } from '../registry/open.js';
import type { ResolvedConfig } from '../config/types.js';
import { TributaryError } from '../errors.js';
import { Lake } from '../lake/lake.js';
import type { Log, LogProducer, LogReader, LogRecord, ProduceRecord } from '../log/log.js';
import { openLog } from '../log/open.js';
import { newId } from '../util/ids.js';
import { requireStream, type CompiledStream } from './definition.js';
import { LakeSink } from './lake-sink.js';
import { StreamProcessor, type BatchResult, type ProcessorState } from './processor.js';

/** What a checkpoint's `state_json` holds. */
interface CheckpointState {
  processor: ProcessorState;
  /** On-update outputs' current open-window files, replaced at the next batch. */
  openFiles: Record<string, string[]>;
  /**
   * The offsets of the checkpoint before this one: the consumer group may still hold them (a stop between the
   * catalog commit and the group's update). Any other group offset was set by someone else (`--reset-offsets`).
   */
  previousOffsets?: Record<string, number>;
}

export interface BatchReport {
  batch: number;
  records: number;
  deadLetters: number;
  late: number;
  /** Final window rows appended. */
  emitted: number;
  watermark: number | null;
  /** Records still to read in the log after this batch, summed over partitions (when known). */
  lag: number | undefined;
  commitMs: number;
}

export interface StreamRunReport {
  stream: string;
  runId: string;
  batches: number;
  records: number;
  deadLetters: number;
  late: number;
  emitted: number;
  positions: Record<string, number>;
  watermark: number | null;
}

export interface StreamRunOptions {
  /** Process what the log holds when the run starts, then return (Spark's availableNow trigger). */
  availableNow?: boolean;
  signal?: AbortSignal;
  onBatch?: (report: BatchReport) => void;
  /** Use this log instead of opening the configured one (tests, benchmarks). */
  log?: Log;
  /** Use this open lake (a job's task process has one) instead of opening another; it stays open. */
  lake?: Lake;
  /**
   * When the stream's consumer group was moved by someone else (e.g. `kafka-consumer-groups --reset-offsets`):
   * by default the run refuses to start; 'ignore' continues from the catalog's checkpoint (and overwrites the
   * group); 'adopt' starts from the group's offsets with fresh window state, as a new stream would.
   */
  movedGroup?: 'refuse' | 'ignore' | 'adopt';
}

/** The consumer group under which a stream's progress is published to the log, for lag monitoring tools. */
function streamGroup(stream: string): string {
  return `tributary.${stream}`;
}

/**
 * Runs a stream: micro-batches of records → windowed aggregates, raw landing, dead letters and late events as
 * lake files → one catalog commit per batch carrying the files, the source offsets and the window state.
 * A crash at any point leaves either the whole batch committed or none of it; a restart resumes from the last
 * committed offsets with the state that went with them, so every record counts exactly once.
 */
export async function runStream(config: ResolvedConfig, name: string, options: StreamRunOptions = {}): Promise<StreamRunReport> {
  // The formats reach the registry through the lake opened below (Avro: schemas by the ids records carry).
  let opened: Lake | undefined;
  const stream = requireStream(
    config.streams,
    name,
    serdeContext(config, async () => opened!.catalog.driver),
  );
  const log = options.log ?? (await openLog(config.log));
  const lake = options.lake ?? (await Lake.open(config));
  opened = lake;
  const runId = newId('stream');
  let reader: LogReader | undefined;
  let producer: LogProducer | undefined;
  const report: StreamRunReport = { stream: name, runId, batches: 0, records: 0, deadLetters: 0, late: 0, emitted: 0, positions: {}, watermark: null };
  await lake.catalog.runs.start(runId, 'stream');
  try {
    const topicPartitions = await ensureTopics(log, stream);
    const checkpoint = await lake.catalog.streams.checkpoint(name, 'live');
    const saved = checkpoint ? (JSON.parse(checkpoint.state) as CheckpointState) : undefined;
    let seq = checkpoint?.seq ?? 0;
    let openFiles = saved?.openFiles ?? {};
    let start = checkpoint?.offsets;
    const moved = checkpoint ? await movedGroupOffsets(log, name, stream.topic, checkpoint.offsets, saved?.previousOffsets) : undefined;
    if (moved) {
      const where = [...moved].map(([p, o]) => `partition ${p}: group at ${o}, stream at ${checkpoint!.offsets[String(p)] ?? 'start'}`).join('; ');
      if ((options.movedGroup ?? 'refuse') === 'refuse') {
        throw new TributaryError('STREAM_POSITION_MOVED', `stream ${name}: its consumer group ${streamGroup(name)} was moved by someone else (${where})`, {
          hint: `the stream's position is in the catalog, with its window state; run with --ignore-group-offsets to continue from there, --from-group-offsets to start from the group's offsets with fresh windows, or use \`tributary stream replay\` to recompute windows (docs/kafka.md)`,
        });
      }
      if (options.movedGroup === 'adopt') start = { ...checkpoint!.offsets, ...Object.fromEntries([...moved].map(([p, o]) => [String(p), o])) };
    }
    // A group left one batch behind by a crash between a commit and its group write (or moved, and ignored) is put in
    // step with the catalog now: otherwise a second crash in that same window would leave it two batches behind, which
    // the check above can no longer tell from someone else's move.
    if (checkpoint && (!moved || options.movedGroup === 'ignore')) {
      const offsets = new Map(Object.entries(checkpoint.offsets).map(([p, o]) => [Number(p), o]));
      await log.commitGroup(streamGroup(name), stream.topic, offsets).catch(() => undefined);
    }
    // Adopting a moved group starts windows afresh: the old state counted records the new position reads again.
    const processor = new StreamProcessor(stream, stream.outputs, moved && options.movedGroup === 'adopt' ? undefined : saved?.processor);
    const sink = await LakeSink.open(lake, stream);
    const offsets = await log.offsets(stream.topic);
    const positions = new Map<number, number>();
    for (const o of offsets) {
      const committed = start?.[String(o.partition)];
      positions.set(o.partition, committed ?? (stream.startingOffsets === 'earliest' ? o.start : o.end));
    }
    let previousOffsets = checkpoint?.offsets ?? {};
    const targets = options.availableNow ? new Map(offsets.map((o) => [o.partition, o.end])) : undefined;
    // Partitions with records waiting hold the watermark until they deliver; empty ones would only stall it.
    processor.assign(new Map(offsets.filter((o) => o.end > positions.get(o.partition)!).map((o) => [o.partition, o.end])));
    reader = await log.reader(stream.topic, positions);
    if (stream.dlqTopic || stream.outputs.some((o) => o.topic)) producer = await log.producer();
    let ends = new Map(offsets.map((o) => [o.partition, o.end]));

    // Batch N is written and committed while batch N+1 is read and processed: the JS work of one overlaps the
    // DuckDB work (Parquet, catalog) of the other. Commits stay strictly in order, each with its own state.
    let pending: Promise<void> | undefined;
    const commitBatch = async (records: readonly LogRecord[], result: BatchResult, committed: Map<number, number>, state: string): Promise<void> => {
      const started = performance.now();
      const { changes, openFiles: nextOpen } = await sink.write(result, openFiles);
      if (report.batches === 0) changes.push(...(await sink.createMissing(changes)));
      try {
        // Topics first: a crash before the commit re-sends them (at least once), a crash after it loses nothing.
        if (producer) {
          for (const o of stream.outputs) if (o.topic) await o.topicFormat.prepare?.([]);
          await producer.send(topicRecords(stream, result, topicPartitions));
        }
      } catch (err) {
        await sink.discard(changes); // nothing committed: the files were never visible
        throw err;
      }
      // On a conflict, Lake.commit removes the files itself; on an unknown outcome (connection lost during COMMIT)
      // they must stay, since the commit may have landed; vacuum removes them if it did not.
      await lake.commit({
        runId,
        changes,
        parts: [
          lake.catalog.streams.advance({
            stream: name,
            run: 'live',
            topic: stream.topic,
            expectedSeq: seq,
            offsets: Object.fromEntries(committed),
            watermark: Number.isFinite(result.watermark) ? result.watermark : null,
            // The processor state was serialised when the batch was processed; open files are only known now.
            state: `{"processor":${state},"openFiles":${JSON.stringify(nextOpen)},"previousOffsets":${JSON.stringify(previousOffsets)}}`,
          }),
        ],
      });
      seq++;
      openFiles = nextOpen;
      previousOffsets = Object.fromEntries(committed);
      // Advisory: lets Kafka tooling (and `stream status`) see the group's lag; the catalog is the truth.
      await log.commitGroup(streamGroup(name), stream.topic, committed).catch(() => undefined);
      const emitted = [...result.closed.values()].reduce((n, rows) => n + rows.length, 0);
      report.batches++;
      report.records += records.length;
      report.deadLetters += result.deadLetters.length;
      report.late += result.late.length;
      report.emitted += emitted;
      report.watermark = Number.isFinite(result.watermark) ? result.watermark : null;
      report.positions = Object.fromEntries(committed);
      if (stream.compactEvery > 0 && report.batches % stream.compactEvery === 0) await compactTables(lake, stream);
      if (options.onBatch) {
        // Only for the lag figure: a failed lookup keeps the previous ends rather than failing a committed batch.
        if (report.batches % 20 === 1)
          ends = await log.offsets(stream.topic).then(
            (o) => new Map(o.map((x) => [x.partition, x.end])),
            () => ends,
          );
        let lag = 0;
        for (const [p, end] of ends) lag += Math.max(0, end - (committed.get(p) ?? 0));
        options.onBatch({
          batch: report.batches,
          records: records.length,
          deadLetters: result.deadLetters.length,
          late: result.late.length,
          emitted,
          watermark: report.watermark,
          lag,
          commitMs: Math.round(performance.now() - started),
        });
      }
    };

    try {
      while (!options.signal?.aborted) {
        // The reader's own position: it may have stepped over records that are not data (Kafka transaction markers).
        if (targets && reached(reader.positions(), targets)) break;
        const records = await collect(reader, stream, options.signal);
        if (records.length === 0) continue;
        await stream.format.prepare?.(records.map((r) => r.value));
        const result = processor.process(records);
        for (const [p, next] of result.positions) positions.set(p, next);
        // Serialised now: processing the next batch mutates the accumulators.
        const state = JSON.stringify(processor.snapshot());
        const committed = new Map(positions);
        await pending;
        pending = commitBatch(records, result, committed, state);
        // A failed commit is rethrown by the `await pending` of the next batch (or below); this only marks it handled.
        pending.catch(() => undefined);
      }
    } finally {
      await pending?.catch(() => undefined);
    }
    await pending;
    await lake.catalog.runs.finish(runId, 'success', report);
    return report;
  } catch (err) {
    await lake.catalog.runs.finish(runId, 'failed', report, err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  } finally {
    await reader?.close().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    if (!options.log) await log.close().catch(() => undefined);
    if (!options.lake) await lake.close();
  }
}

/**
 * Partitions whose group offset is neither the checkpoint's nor the one before it: someone moved the group (the
 * stream publishes the checkpoint's offsets after each commit, and may have stopped just before doing so).
 * Undefined when the group agrees, has no offsets, or cannot be read.
 */
async function movedGroupOffsets(
  log: Log,
  name: string,
  topic: string,
  offsets: Record<string, number>,
  previous: Record<string, number> | undefined,
): Promise<Map<number, number> | undefined> {
  const group = await log.groupOffsets(streamGroup(name), topic).catch(() => new Map<number, number>());
  const moved = new Map(
    [...group].filter(([p, o]) => {
      const current = offsets[String(p)];
      if (o === current) return false;
      if (previous) return o !== previous[String(p)];
      // A checkpoint written before previousOffsets existed: only a group ahead of it is certainly not our doing.
      return current !== undefined && o > current;
    }),
  );
  return moved.size ? moved : undefined;
}

/** Creates the stream's topics if missing: its source (with its partitions), dead-letter and output topics. */
async function ensureTopics(log: Log, stream: CompiledStream): Promise<Map<string, number>> {
  await log.createTopic(stream.topic, stream.partitions);
  const counts = new Map<string, number>();
  const source = (await log.partitions(stream.topic)) ?? stream.partitions;
  // The DLQ mirrors the source's partitions: a dead letter stays on its partition, next to its neighbours.
  if (stream.dlqTopic) await log.createTopic(stream.dlqTopic, source);
  for (const o of stream.outputs) if (o.topic) await log.createTopic(o.topic, o.topicPartitions);
  for (const topic of [stream.dlqTopic, ...stream.outputs.map((o) => o.topic)]) {
    if (topic) counts.set(topic, (await log.partitions(topic)) ?? 1);
  }
  return counts;
}

/**
 * One micro-batch: what arrives within the trigger interval, up to `maxRecords`. A backlog fills batches at once;
 * a trickle is committed every `intervalMs`, which bounds how stale the lake can be.
 */
async function collect(reader: LogReader, stream: CompiledStream, signal: AbortSignal | undefined): Promise<LogRecord[]> {
  const deadline = Date.now() + stream.intervalMs;
  const records: LogRecord[] = [];
  for (;;) {
    const wait = Math.max(0, deadline - Date.now());
    const got = await reader.poll({ maxRecords: stream.maxRecords - records.length, maxWaitMs: records.length ? Math.min(wait, 20) : Math.max(wait, 50) });
    for (const r of got) records.push(r);
    if (records.length >= stream.maxRecords || signal?.aborted) break;
    if (records.length > 0 && (Date.now() >= deadline || got.length === 0)) break;
    if (records.length === 0 && got.length === 0) break;
  }
  return records;
}

function reached(positions: ReadonlyMap<number, number>, targets: ReadonlyMap<number, number>): boolean {
  for (const [p, end] of targets) if ((positions.get(p) ?? 0) < end) return false;
  return true;
}

/**
 * Dead letters and emitted rows, for the stream's topics. A dead letter keeps its key, its headers (Tributary's
 * beside them) and its partition (when the DLQ topic has it: an older one may have fewer). A row is keyed by its
 * window and group, so a compacted topic keeps each window's last value; on-update outputs publish every update
 * with `is_final` false, then the final row with `is_final` true.
 */
function topicRecords(stream: CompiledStream, result: BatchResult, partitions: ReadonlyMap<string, number>): ProduceRecord[] {
  const out: ProduceRecord[] = [];
  if (stream.dlqTopic) {
    const count = partitions.get(stream.dlqTopic) ?? 1;
    for (const { record: r, failure } of result.deadLetters) {
      const size = r.value?.length ?? 0;
      // The lake table keeps the whole payload; the topic copy stays under what brokers accept by default.
      const truncated = size > stream.maxEventBytes;
      out.push({
        topic: stream.dlqTopic,
        ...(r.partition < count ? { partition: r.partition } : {}),
        key: r.key,
        value: truncated ? r.value!.subarray(0, stream.maxEventBytes) : r.value,
        headers: {
          ...r.headers,
          'tributary.error.code': failure.code,
          'tributary.error': failure.message,
          'tributary.source': `${r.topic}/${r.partition}/${r.offset}`,
          'tributary.stream': stream.name,
          ...(truncated ? { 'tributary.truncated-from': String(size) } : {}),
        },
      });
    }
  }
  for (const o of stream.outputs) {
    if (!o.topic) continue;
    const rows = o.emit === 'on-update' ? [...(result.open.get(o.table) ?? []), ...(result.closed.get(o.table) ?? [])] : (result.closed.get(o.table) ?? []);
    for (const row of rows) {
      const value: Record<string, unknown> = { window_start: new Date(row.start).toISOString(), window_end: new Date(row.end).toISOString() };
      for (const [i, g] of o.groupBy.entries()) value[g] = row.keys[i];
      for (const [i, a] of o.aggregates.entries()) value[a.name] = row.values[i];
      if (o.emit === 'on-update') value.is_final = row.final;
      out.push({ topic: o.topic, key: JSON.stringify([value.window_start, value.window_end, ...row.keys]), value: o.topicFormat.encode(value) });
    }
  }
  return out;
}

/** Best effort: a compaction that loses a race (a replay, `tributary lake compact`) is simply skipped until next time. */
async function compactTables(lake: Lake, stream: CompiledStream): Promise<void> {
  for (const table of [stream.landing, stream.dlqTable, stream.lateTable, ...stream.outputs.map((o) => o.table)]) {
    if (!table || !(await lake.catalog.getTable(table))) continue;
    try {
      await lake.compact(table);
    } catch (err) {
      if (!(err instanceof TributaryError && err.code === 'COMMIT_CONFLICT')) throw err;
    }
  }
}
