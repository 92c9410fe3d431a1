import type { StreamEvent } from '../config/types.js';
import type { LogRecord } from '../log/log.js';
import { decodeEvent, eventTimeOf, LAKE_TIME_RANGE, type DecodeFailure } from './decode.js';
import type { CompiledOutput, CompiledStream } from './definition.js';
import { WindowAggregator, type WindowState } from './window-aggregator.js';

export interface DeadLetter {
  record: LogRecord;
  failure: DecodeFailure;
}

export interface LateEvent {
  record: LogRecord;
  output: string;
  windowStart: number;
  windowEnd: number;
  eventTime: number;
  watermark: number;
  event: StreamEvent;
}

export interface WindowRow {
  start: number;
  end: number;
  keys: unknown[];
  values: (number | null)[];
  final: boolean;
}

/** What one micro-batch produced, before it is written. */
export interface BatchResult {
  records: readonly LogRecord[];
  /** The events that passed (after filter and map), with their record: for the typed events table. */
  events: { record: LogRecord; event: StreamEvent }[];
  deadLetters: DeadLetter[];
  late: LateEvent[];
  /** Per output table: windows closed by this batch (final rows). */
  closed: Map<string, WindowRow[]>;
  /** Per on-update output table: every open window's current values. */
  open: Map<string, WindowRow[]>;
  /** Per partition, the next offset to read after this batch. */
  positions: Map<number, number>;
  watermark: number;
}

/** What a checkpoint saves: enough to continue exactly where the last committed batch ended. */
export interface ProcessorState {
  version: 1;
  maxEventTime: number | null;
  /** Largest event time seen per source partition. */
  partitionTimes: Record<string, number>;
  watermark: number | null;
  windows: Record<string, WindowState[]>;
}

function outOfRange(s: CompiledStream, time: number, now: number, latest: number): string {
  const iso = (ms: number) => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`);
  const field = `event-time field "${s.eventTime}" (${iso(time)})`;
  if (time > LAKE_TIME_RANGE.max) return `${field} is after 9999-12-31, the latest time the lake can hold`;
  if (time > latest) return `${field} is more than eventTimeLimits.maxAhead (${s.maxAheadMs} ms) ahead of the processing time ${iso(now)}`;
  if (time < LAKE_TIME_RANGE.min) return `${field} is before 0001-01-01, the earliest time the lake can hold`;
  return `${field} is more than eventTimeLimits.maxBehind (${s.maxBehindMs} ms) behind the processing time ${iso(now)}`;
}

/**
 * The stream's logic, free of I/O: records in, rows out, deterministic for a given state, input and clock.
 * Events are judged late against the watermark at the start of the batch (Spark's micro-batch rule); at its end
 * the watermark moves to the smallest, over partitions, of the largest event time each has delivered, minus the
 * allowed out-of-orderness (as Flink and Kafka Streams do): a partition read behind the others (a backlog,
 * uneven keys) does not see its events declared late. A partition silent for `idleMs` stops holding it back.
 */
export class StreamProcessor {
  private readonly aggregators: WindowAggregator[];
  private maxEventTime = -Infinity;
  private watermarkMs = -Infinity;
  private readonly partitionTimes = new Map<number, number>();
  /** Partitions assigned with records waiting up to this offset, not yet delivered (their time is -Infinity). */
  private readonly waitingUntil = new Map<number, number>();
  /** When each partition last delivered an event (processing time; not saved: a restart sees all as active). */
  private readonly lastSeen = new Map<number, number>();

  constructor(
    readonly stream: CompiledStream,
    outputs: readonly CompiledOutput[] = stream.outputs,
    state?: ProcessorState,
  ) {
    this.aggregators = outputs.map((o) => new WindowAggregator(o));
    if (state) {
      this.maxEventTime = state.maxEventTime ?? -Infinity;
      this.watermarkMs = state.watermark ?? -Infinity;
      // Restored partitions count as just seen: one that stays silent goes idle after idleMs, like any other.
      for (const [p, t] of Object.entries(state.partitionTimes ?? {})) {
        this.partitionTimes.set(Number(p), t);
        this.lastSeen.set(Number(p), Date.now());
      }
      for (const a of this.aggregators) a.restore(state.windows[a.output.table] ?? []);
    }
  }

  /**
   * Partitions with records waiting, and the end of what waits: each holds the watermark back until it delivers an
   * event, reads up to that end (its backlog was all dead letters) or goes idle, so the first events of a partition
   * slow to start are not declared late.
   */
  assign(waiting: ReadonlyMap<number, number>, now = Date.now()): void {
    for (const [p, end] of waiting) {
      if (this.partitionTimes.has(p)) continue;
      this.partitionTimes.set(p, -Infinity);
      this.waitingUntil.set(p, end);
      if (!this.lastSeen.has(p)) this.lastSeen.set(p, now);
    }
  }

  get watermark(): number {
    return this.watermarkMs;
  }

  process(records: readonly LogRecord[], now = Date.now()): BatchResult {
    const s = this.stream;
    const watermark = this.watermarkMs;
    const deadLetters: DeadLetter[] = [];
    const late: LateEvent[] = [];
    const events: { record: LogRecord; event: StreamEvent }[] = [];
    const positions = new Map<number, number>();
    const earliest = Math.max(LAKE_TIME_RANGE.min, s.maxBehindMs === undefined ? -Infinity : now - s.maxBehindMs);
    const latest = Math.min(LAKE_TIME_RANGE.max, s.maxAheadMs === undefined ? Infinity : now + s.maxAheadMs);
    for (const record of records) {
      positions.set(record.partition, record.offset + 1);
      // One record can never fail the batch: whatever goes wrong with it sends it to the dead-letter queue.
      try {
        const failure = this.processRecord(record, watermark, now, earliest, latest, late, s.events ? events : undefined);
        if (failure) deadLetters.push({ record, failure });
      } catch (err) {
        deadLetters.push({ record, failure: { code: 'processing_failed', message: `processing failed: ${err instanceof Error ? err.message : String(err)}` } });
      }
    }
    for (const [p, next] of positions) {
      const until = this.waitingUntil.get(p);
      if (until === undefined) continue;
      // Its first event arrived, or it has read all that was waiting without one: it no longer holds anything back.
      if (this.partitionTimes.get(p) !== -Infinity) this.waitingUntil.delete(p);
      else if (next >= until) {
        this.waitingUntil.delete(p);
        this.partitionTimes.delete(p);
      }
    }
    this.watermarkMs = Math.max(this.watermarkMs, this.eventTimeFloor(now) - s.watermarkMs);
    const closed = new Map<string, WindowRow[]>();
    const open = new Map<string, WindowRow[]>();
    for (const a of this.aggregators) {
      closed.set(
        a.output.table,
        a.close(this.watermarkMs).map((w) => this.row(a, w, true)),
      );
      if (a.output.emit === 'on-update')
        open.set(
          a.output.table,
          a.open().map((w) => this.row(a, w, false)),
        );
    }
    return { records, events, deadLetters, late, closed, open, positions, watermark: this.watermarkMs };
  }

  /** One record: decoded, checked, timed, filtered, mapped and counted; a failure is returned, not thrown. */
  private processRecord(
    record: LogRecord,
    watermark: number,
    now: number,
    earliest: number,
    latest: number,
    late: LateEvent[],
    accepted: { record: LogRecord; event: StreamEvent }[] | undefined,
  ): DecodeFailure | undefined {
    const s = this.stream;
    const decoded = decodeEvent(record.value, s.format, s.checks, s.maxEventBytes);
    if (decoded.failure) return decoded.failure;
    let event = decoded.event;
    const rawTime = event[s.eventTime];
    const time = eventTimeOf(rawTime);
    if (time === undefined) {
      const message =
        rawTime === undefined || rawTime === null
          ? `event-time field "${s.eventTime}" is missing`
          : `event-time field "${s.eventTime}" is not a time: ${JSON.stringify(rawTime)}`;
      return { code: 'missing_event_time', message };
    }
    // Out of bounds: dead-lettered before it can move the watermark (one event dated 9999 would close every window).
    if (!(time >= earliest && time <= latest)) return { code: 'event_time_out_of_range', message: outOfRange(s, time, now, latest) };
    // Time advances with every valid event, filtered or not: the watermark is a property of the source.
    if (time > this.maxEventTime) this.maxEventTime = time;
    if (time > (this.partitionTimes.get(record.partition) ?? -Infinity)) this.partitionTimes.set(record.partition, time);
    this.lastSeen.set(record.partition, now);
    try {
      if (s.filter && !s.filter(event)) return undefined;
      if (s.map) {
        const mapped = s.map(event);
        if (mapped === null || mapped === undefined) return undefined;
        if (typeof mapped !== 'object' || Array.isArray(mapped))
          return { code: 'map_failed', message: `map returned ${Array.isArray(mapped) ? 'an array' : typeof mapped}, not an event object` };
        event = mapped;
      }
    } catch (err) {
      return { code: 'map_failed', message: `filter/map threw: ${err instanceof Error ? err.message : String(err)}` };
    }
    accepted?.push({ record, event });
    for (const aggregator of this.aggregators) {
      for (const w of aggregator.add(event, time, watermark)) {
        late.push({ record, output: aggregator.output.table, windowStart: w.start, windowEnd: w.end, eventTime: time, watermark, event });
      }
    }
    return undefined;
  }

  /** The event time every active partition has reached. */
  private eventTimeFloor(now: number): number {
    let floor = Infinity;
    for (const [p, t] of this.partitionTimes) {
      const seen = this.lastSeen.get(p);
      if (seen !== undefined && now - seen > this.stream.idleMs) continue;
      floor = Math.min(floor, t);
    }
    return floor === Infinity ? this.maxEventTime : floor;
  }

  snapshot(): ProcessorState {
    return {
      version: 1,
      maxEventTime: Number.isFinite(this.maxEventTime) ? this.maxEventTime : null,
      partitionTimes: Object.fromEntries([...this.partitionTimes].filter(([, t]) => Number.isFinite(t))),
      watermark: Number.isFinite(this.watermarkMs) ? this.watermarkMs : null,
      windows: Object.fromEntries(this.aggregators.map((a) => [a.output.table, a.snapshot()])),
    };
  }

  private row(a: WindowAggregator, w: WindowState, final: boolean): WindowRow {
    return { start: w.start, end: w.end, keys: w.keys, values: a.results(w), final };
  }
}
