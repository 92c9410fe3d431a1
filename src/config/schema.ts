import { z } from 'zod';
import '../checks/builtin.js';
import { checkKind, checkKinds } from '../checks/kinds.js';
import { sourceConnector, sourceKinds } from '../sources/registry.js';
import type { CheckSpec, SourceConfig, StreamEvent, TributaryConfig } from './types.js';
import { nearest } from '../util/nearest.js';

/** Runtime validation of a loaded config: config files may be plain JS, so types alone do not protect us. */

/**
 * A value whose `kind` names a registered kind: that kind's own schema validates the rest, and its errors keep their
 * path (`sources.x.batchSize`, `checks.t.0.max`); an unknown kind is named with the nearest registered one.
 */
function registeredKind<T>(what: string, kinds: () => string[], schemaOf: (kind: string) => z.ZodType) {
  return z.looseObject({ kind: z.string().min(1) }).transform((value, ctx) => {
    if (!kinds().includes(value.kind)) {
      const near = nearest(value.kind, kinds());
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: `unknown ${what} kind "${value.kind}" (${near ? `did you mean "${near}"? ` : ''}kinds: ${kinds().join(', ')})`,
      });
      return z.NEVER;
    }
    const parsed = schemaOf(value.kind).safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      return z.NEVER;
    }
    // The kind's own schema checked it: T, an open union of the kinds' types (SourceKinds, CheckKinds), is its type.
    return parsed.data as T;
  });
}

const sourceSchema = registeredKind<SourceConfig>('source', sourceKinds, (kind) => sourceConnector(kind).schema);

// A format's options are checked by its serde when the stream is compiled (streams/definition.ts).
const serdeSpec = z.union([z.string().min(1), z.looseObject({ kind: z.string().min(1) })]);

const severity = z.enum(['warn', 'error']).optional();
const tableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'expected a table name layer.table');
const checkOptions = { severity, name: z.string().min(1).optional() };
const checkSpec = registeredKind<CheckSpec>('check', checkKinds, (kind) => checkKind(kind).schema.extend(checkOptions).strict());

const columns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const period = z.enum(['day', 'week', 'month', 'quarter', 'year']);
const endpoint = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('list'),
    table: tableName,
    key: z.string().min(1).optional(),
    filters: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
        z.union([z.string().min(1), z.strictObject({ column: z.string().min(1), op: z.enum(['eq', 'gte', 'lte', 'in']) })]),
      )
      .optional(),
    sort: z.string().optional(),
    description: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal('aggregate'),
    table: tableName,
    measures: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().min(1)),
    period: z.strictObject({ column: z.string().min(1), param: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), values: z.record(z.string(), period) }).optional(),
    description: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('pipeline'), report: z.enum(['status', 'refresh-times']), description: z.string().optional() }),
]);
const chart = z.strictObject({
  title: z.string().min(1),
  source: z.string().startsWith('/'),
  type: z.enum(['line', 'bar', 'doughnut', 'table', 'kpi']),
  x: z.string().optional(),
  y: columns.optional(),
  filter: z.string().optional(),
  field: z.string().optional(),
  granularity: z.strictObject({ param: z.string().min(1), choices: z.array(z.string().min(1)).min(1) }).optional(),
});
const serveSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  expose: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.([A-Za-z_][A-Za-z0-9_]*|\*)$/, 'expected layer.table or layer.*')).optional(),
  tables: z
    .record(
      tableName,
      z.strictObject({
        key: columns.optional(),
        measures: z.array(z.string().min(1)).optional(),
        dimensions: z.array(z.string().min(1)).optional(),
        timeColumn: z.string().min(1).optional(),
      }),
    )
    .optional(),
  endpoints: z.record(z.string().regex(/^[a-z0-9][a-z0-9/_-]*$/, 'endpoint paths are lower-case segments, e.g. kpis/ca-par-jour'), endpoint).optional(),
  auth: z.strictObject({ tokens: z.array(z.string()) }).optional(),
  cors: z.strictObject({ origins: z.array(z.string().min(1)) }).optional(),
  rateLimit: z.strictObject({ max: z.number().int().positive(), windowSeconds: z.number().positive().optional() }).optional(),
  refreshMs: z.number().int().min(50).optional(),
  memoryRows: z.number().int().min(0).optional(),
  dashboard: z
    .strictObject({
      title: z.string().optional(),
      locale: z.enum(['en', 'fr']).optional(),
      pages: z.array(z.strictObject({ id: z.string().regex(/^[a-z0-9-]+$/), title: z.string().min(1), charts: z.array(chart) })).optional(),
    })
    .optional(),
});
const storeSchema = z.strictObject({
  url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
  tables: z.record(
    tableName,
    z.strictObject({
      key: columns,
      target: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .optional(),
      indexes: z.array(columns).optional(),
    }),
  ),
  onDelete: z.enum(['delete', 'flag']).optional(),
});

const duration = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, "expected a duration like '30s', '1m', '500ms'")]);
const fieldName = z.string().min(1);
const windowSpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tumbling'), size: duration }),
  z.strictObject({ kind: z.literal('hopping'), size: duration, advance: duration }),
  // An alias of hopping, as earlier versions named it.
  z.strictObject({ kind: z.literal('sliding'), size: duration, advance: duration }),
  z.strictObject({ kind: z.literal('session'), gap: duration }),
]);
const aggregateSpec = z.union([
  z.strictObject({ fn: z.literal('count'), field: fieldName.optional() }),
  z.strictObject({ fn: z.enum(['sum', 'avg', 'min', 'max']), field: fieldName }),
]);
const columnName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'column names use letters, digits and _');
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "topic names use letters, digits, '.', '_' and '-'");
/** A function the config passes (a stream's filter or map): checked to be one; what it returns is checked when it runs. */
const fn = <F>() => z.custom<F>((v) => typeof v === 'function', 'expected a function');
const streamSchema = z.strictObject({
  topic: topicName,
  partitions: z.number().int().positive().optional(),
  format: serdeSpec.optional(),
  fields: z
    .record(fieldName, z.enum(['string', 'number', 'integer', 'boolean', 'timestamp', 'string?', 'number?', 'integer?', 'boolean?', 'timestamp?']))
    .optional(),
  eventTime: fieldName,
  watermark: duration,
  idleTimeout: duration.optional(),
  eventTimeLimits: z
    .strictObject({ maxAhead: z.union([duration, z.literal(false)]).optional(), maxBehind: z.union([duration, z.literal(false)]).optional() })
    .optional(),
  filter: fn<(event: StreamEvent) => boolean>().optional(),
  map: fn<(event: StreamEvent) => StreamEvent | null | undefined>().optional(),
  outputs: z
    .record(
      tableName,
      z.strictObject({
        window: windowSpec,
        groupBy: z.array(columnName).optional(),
        aggregates: z.record(columnName, aggregateSpec).refine((a) => Object.keys(a).length > 0, 'declare at least one aggregate'),
        emit: z.enum(['on-window-close', 'on-update']).optional(),
        allowedLateness: duration.optional(),
        topic: topicName.optional(),
        topicPartitions: z.number().int().positive().optional(),
        format: serdeSpec.optional(),
      }),
    )
    .refine((o) => Object.keys(o).length > 0, 'declare at least one output table'),
  landing: z.union([tableName, z.literal(false)]).optional(),
  dlq: z.strictObject({ table: tableName.optional(), topic: z.union([topicName, z.literal(false)]).optional() }).optional(),
  lateTable: tableName.optional(),
  maxEventBytes: z.number().int().positive().optional(),
  startingOffsets: z.enum(['earliest', 'latest']).optional(),
  trigger: z.strictObject({ intervalMs: z.number().int().min(0).optional(), maxRecords: z.number().int().positive().optional() }).optional(),
  compactEvery: z.number().int().min(0).optional(),
});

const jobName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'job names use letters, digits, _ and -');
const jobSchema = z.strictObject({
  select: z.array(z.string().min(1)).min(1),
  description: z.string().optional(),
  schedule: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  timezone: z.string().min(1).optional(),
  partitions: z
    .strictObject({ granularity: z.enum(['day', 'month']), start: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'expected a date YYYY-MM-DD') })
    .optional(),
  retries: z.number().int().min(0).max(100).optional(),
  retryDelay: duration.optional(),
  maxRetryDelay: duration.optional(),
  timeout: duration.optional(),
  concurrency: z.number().int().positive().optional(),
});
const sensorBase = { job: jobName, interval: duration.optional() };
const sensorSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('files'), glob: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), ...sensorBase }),
  z.strictObject({ kind: z.literal('table'), table: tableName, ...sensorBase }),
  z.strictObject({
    kind: z.literal('http'),
    url: z.string().regex(/^https?:\/\//, 'expected an http(s):// URL'),
    headers: z.record(z.string(), z.string()).optional(),
    ...sensorBase,
  }),
]);
const orchestrationSchema = z.strictObject({
  workerConcurrency: z.number().int().positive().optional(),
  lostAfter: duration.optional(),
  heartbeat: duration.optional(),
  webhook: z
    .string()
    .regex(/^https?:\/\//, 'expected an http(s):// URL')
    .optional(),
  notifyOn: z.array(z.enum(['failure', 'success'])).optional(),
});

export const configSchema = z.strictObject({
  name: z.string().optional(),
  lake: z
    .strictObject({
      path: z.string().min(1).optional(),
      retention: z
        .strictObject({
          snapshotDays: z.number().nonnegative().optional(),
          keepLast: z.number().int().min(1).optional(),
          orphanMinutes: z.number().nonnegative().optional(),
        })
        .optional(),
      smallFileMB: z.number().positive().optional(),
    })
    .optional(),
  catalog: z.string().min(1).optional(),
  engine: z.strictObject({ threads: z.number().int().positive().optional(), memoryLimit: z.string().optional() }).optional(),
  sources: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'source names use letters, digits, _ and -'), sourceSchema).optional(),
  models: z.string().min(1).optional(),
  checks: z.record(tableName, z.array(checkSpec)).optional(),
  serve: serveSchema.optional(),
  store: storeSchema.optional(),
  log: z.string().min(1).optional(),
  streams: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'stream names use letters, digits, _ and -'), streamSchema).optional(),
  jobs: z
    .record(
      jobName.refine((n) => n !== 'automation', "'automation' names the runs of declarative automation"),
      jobSchema,
    )
    .optional(),
  sensors: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'sensor names use letters, digits, _ and -'), sensorSchema).optional(),
  automate: z.array(z.string().min(1)).optional(),
  orchestration: orchestrationSchema.optional(),
  tables: z
    .record(
      z.string(),
      z.strictObject({
        partitionBy: z.strictObject({ column: z.string().min(1), granularity: z.enum(['day', 'month', 'year']).optional() }).optional(),
      }),
    )
    .optional(),
});

/**
 * The config's types (config/types.ts, documented for editors) and this schema are checked against each other by the
 * compiler, both ways: a field typed one way there and validated another way here fails `tsc`, and the parsed config
 * needs no cast. (Both-way assignability does not see an optional field present on one side only.)
 */
type Parsed = z.output<typeof configSchema>;
export const parsedIsConfig: (parsed: Parsed) => TributaryConfig = (parsed) => parsed;
export const configIsParsed: (config: TributaryConfig) => Parsed = (config) => config;
