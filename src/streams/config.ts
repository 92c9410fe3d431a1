import { z } from 'zod';
import { identifierSchema, tableNameSchema } from '../lake/table-name.js';
import { serdeSpecSchema } from '../serdes/serde.js';
import { durationSchema } from '../util/duration.js';

/** A stream's definition (the `streams` setting); its TypeScript types are inferred from these schemas. */

const fieldName = z.string().min(1);
const columnName = identifierSchema;
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "topic names use letters, digits, '.', '_' and '-'");

/** An event as the stream sees it after decoding: a JSON object (timestamps as given, validated). */
export type StreamEvent = Record<string, unknown>;

/** Types of event fields; a trailing '?' makes the field optional. `timestamp` accepts ISO-8601 strings or epoch ms. */
export const fieldTypeSchema = z.enum(['string', 'number', 'integer', 'boolean', 'timestamp']);
export type FieldType = z.infer<typeof fieldTypeSchema>;
const fieldSpec = z.enum([...fieldTypeSchema.options, ...fieldTypeSchema.options.map((t) => `${t}?` as const)]);

const windowKinds = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tumbling'), size: durationSchema }),
  /** Hopping windows of `size`, one starting every `advance`: an event belongs to size/advance windows (Kafka Streams' word). */
  z.strictObject({ kind: z.literal('hopping'), size: durationSchema, advance: durationSchema }),
  /** Per key, events closer than `gap` to each other form one window. */
  z.strictObject({ kind: z.literal('session'), gap: durationSchema }),
]);

/**
 * A window, by kind. `sliding` is refused by name: earlier versions took it for hopping windows, which Kafka Streams'
 * sliding windows (one per record, by the time difference between records) are not, and those are not implemented.
 */
export const windowSchema = z.preprocess((value, ctx) => {
  if (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'sliding') {
    ctx.addIssue({
      code: 'custom',
      path: ['kind'],
      message:
        "'sliding' windows (Kafka Streams' SlidingWindows, one per record) are not available; windows of `size` starting every `advance` are kind 'hopping' (windows.hopping(size, advance))",
    });
    return z.NEVER;
  }
  return value;
}, windowKinds);
export type WindowSpec = z.infer<typeof windowSchema>;

export const aggregateSchema = z.union([
  z.strictObject({ fn: z.literal('count'), field: fieldName.optional() }),
  z.strictObject({ fn: z.enum(['sum', 'avg', 'min', 'max']), field: fieldName }),
]);
export type AggregateSpec = z.infer<typeof aggregateSchema>;

/** A windowed, keyed aggregation written to a lake table (the key of `StreamConfig.outputs`). */
export const streamOutputSchema = z.strictObject({
  window: windowSchema,
  /** Event fields the rows are grouped by (columns after window_start, window_end). */
  groupBy: z.array(columnName).optional(),
  /** Column name → aggregate. */
  aggregates: z.record(columnName, aggregateSchema).refine((a) => Object.keys(a).length > 0, 'declare at least one aggregate'),
  /**
   * 'on-window-close' (default): a row is appended once, final, when the watermark passes the window's end.
   * 'on-update': the table also shows open windows' current values (column `is_final` tells them apart).
   */
  emit: z.enum(['on-window-close', 'on-update']).optional(),
  /** How long after the watermark passes its end a window still accepts late events (default 0). */
  allowedLateness: durationSchema.optional(),
  /**
   * Also publish emitted rows to this topic (at least once), keyed by `[window_start, window_end, ...group]`;
   * on-update outputs publish every update with `is_final: false`, then the final row with `is_final: true`.
   */
  topic: topicName.optional(),
  /** Partitions of `topic` when the stream creates it (default 1); rows of one window and group share one. */
  topicPartitions: z.number().int().positive().optional(),
  /** The format of the output topic's values (default 'json'). */
  format: serdeSpecSchema.optional(),
});
export type StreamOutput = z.infer<typeof streamOutputSchema>;

/** A function the config passes (a stream's filter or map): checked to be one; what it returns is checked when it runs. */
const fn = <F>() => z.custom<F>((v) => typeof v === 'function', 'expected a function');

export const streamSchema = z.strictObject({
  /** Source topic. */
  topic: topicName,
  /** Partitions of the source topic when the stream creates it (default 1). */
  partitions: z.number().int().positive().optional(),
  /** The format of record values: a registered serde's kind, or `{ kind, …options }` (default 'json'; see serdes/). */
  format: serdeSpecSchema.optional(),
  /** Expected fields; an event without a required field, or with a wrong type, goes to the dead-letter queue. */
  fields: z.record(fieldName, fieldSpec).optional(),
  /** The field holding the event's time (ISO-8601 string or epoch milliseconds). */
  eventTime: fieldName,
  /**
   * Maximum out-of-orderness: the watermark trails event time by this much. Event time is the smallest, over the
   * source's partitions, of the largest event time each has delivered.
   */
  watermark: durationSchema,
  /** A partition that delivers nothing for this long no longer holds the watermark back (default '30s'). */
  idleTimeout: durationSchema.optional(),
  /**
   * Event times a stream accepts. An event outside goes to the dead-letter queue (`event_time_out_of_range`) and
   * does not move the watermark, so one event dated 9999-12-31 cannot close every window early.
   * `maxAhead`: how far ahead of the processing clock (default '1h', Kafka's `message.timestamp.after.max.ms`;
   * false: no limit). `maxBehind`: how far behind it (default: no limit). Always within years 0001–9999, the range
   * the lake, SQL and the API can hold.
   */
  eventTimeLimits: z
    .strictObject({
      maxAhead: z.union([durationSchema, z.literal(false)]).optional(),
      maxBehind: z.union([durationSchema, z.literal(false)]).optional(),
    })
    .optional(),
  /** Keep only events for which this returns true. */
  filter: fn<(event: StreamEvent) => boolean>().optional(),
  /** Reshape events; returning null or undefined drops the event. */
  map: fn<(event: StreamEvent) => StreamEvent | null | undefined>().optional(),
  /**
   * Lake table name → windowed aggregation. None: the stream only lands what it consumes (its landing table, dead
   * letters) — a consumer that keeps a topic's records in the lake, as seed 000's streaming zone.
   */
  outputs: z.record(tableNameSchema, streamOutputSchema).optional(),
  /**
   * A lake table of the decoded events: one row per event that passed its checks (after `filter` and `map`), a typed
   * column per declared field (`string` VARCHAR, `number` DOUBLE, `integer` BIGINT, `boolean` BOOLEAN, `timestamp`
   * TIMESTAMPTZ) and the record's `topic`, `partition`, `offset` — seed 003's BigQuery table; partition it by day with
   * `tables`. Written exactly once, in the commit of its batch. Needs `fields`.
   */
  events: tableNameSchema.optional(),
  /** Raw landing table: every record consumed, as bytes with topic/partition/offset (default `bronze.<stream>_raw`; false: none). */
  landing: z.union([tableNameSchema, z.literal(false)]).optional(),
  /** Dead-letter queue: lake table (default `bronze.<stream>_dlq`) and topic (default `<topic>.dlq`; false: none). */
  dlq: z.strictObject({ table: tableNameSchema.optional(), topic: z.union([topicName, z.literal(false)]).optional() }).optional(),
  /** Events too late for their window (default `bronze.<stream>_late`). */
  lateTable: tableNameSchema.optional(),
  /** Larger records go to the dead-letter queue unread (default 1 MiB). */
  maxEventBytes: z.number().int().positive().optional(),
  /** Where a stream with no checkpoint starts (default 'earliest'). */
  startingOffsets: z.enum(['earliest', 'latest']).optional(),
  /** Micro-batches: at most one every `intervalMs` (default 250), each of at most `maxRecords` (default 50,000). */
  trigger: z.strictObject({ intervalMs: z.number().int().min(0).optional(), maxRecords: z.number().int().positive().optional() }).optional(),
  /** Compact the stream's tables every this many batches (default 500; 0: never). */
  compactEvery: z.number().int().min(0).optional(),
});
export type StreamConfig = z.infer<typeof streamSchema>;
