import type { SerdeSpec } from '../serdes/serde.js';
/** The shape of a project's `tributary.config.ts`. Everything is optional except what a source needs to run. */

export type FileFormat = 'csv' | 'json' | 'ndjson' | 'parquet';

/** What to do with bad input. `reject`: bad rows go to the rejects table, unreadable files to quarantine.
 * `quarantine`: any file with a bad row or a read error is quarantined whole. `fail`: stop the run. */
export type ErrorPolicy = 'fail' | 'quarantine' | 'reject';

export interface CsvOptions {
  /** Field delimiter; auto-detected when omitted. */
  delimiter?: string;
  quote?: string;
  escape?: string;
  /** Whether the first line names the columns (default true). */
  header?: boolean;
  encoding?: 'utf-8' | 'latin-1' | 'utf-16';
  /** Lines to skip before the header. */
  skip?: number;
  /** Strings read as NULL (default: the empty string). */
  nullValues?: string[];
  dateFormat?: string;
  timestampFormat?: string;
  /** Longest line accepted, in bytes (default 2,000,000, DuckDB's); a longer one makes the file unreadable. */
  maxLineSize?: number;
  /** Most columns a file may have (default 10,000); a wider header is refused (`too_many_columns`). */
  maxColumns?: number;
}

/** A declared column: a DuckDB type name ('BIGINT', 'DOUBLE', 'DATE', 'VARCHAR'…), required unless `required: false`. */
export interface ColumnSpec {
  type?: string;
  required?: boolean;
}

export interface ExpectedSchema {
  columns: Record<string, string | ColumnSpec>;
  /** When true, a file with columns not declared here fails validation. Default false. */
  strict?: boolean;
}

export interface FileSourceConfig {
  kind: 'files';
  /** One or more glob patterns, relative to the project folder. `${VAR:-default}` is interpolated. */
  glob: string | string[];
  /** Target lake table, `layer.table`. */
  into: string;
  /** Defaults to the file extension (.csv .tsv .json .ndjson/.jsonl .parquet). */
  format?: FileFormat;
  csv?: CsvOptions;
  schema?: ExpectedSchema;
  onError?: ErrorPolicy;
  /**
   * A file already ingested whose content changed (a re-export): 'replace' (default) takes the previous version's
   * rows (and rejects) out of the table in the same commit that adds the new ones; 'keep' keeps every version.
   */
  onChange?: 'replace' | 'keep';
}

/**
 * Source kinds by name. A kind's folder adds its config type here by declaration merging, so that `defineConfig`
 * checks its sources: `declare module '…/config/types.js' { interface SourceKinds { sql: SqlSourceConfig } }`.
 */
export interface SourceKinds {
  files: FileSourceConfig;
}

/** Any source's config: one of the registered kinds (see sources/registry.ts). */
export type SourceConfig = SourceKinds[keyof SourceKinds];

export type PartitionGranularity = 'day' | 'month' | 'year';

export interface TableConfig {
  /** Hidden date partitioning: files are laid out per day/month/year of this column. */
  partitionBy?: { column: string; granularity?: PartitionGranularity };
}

export interface RetentionSettings {
  /** Snapshots younger than this many days are kept for time travel (default 7). */
  snapshotDays?: number;
  /** At least this many most recent snapshots are kept per table, whatever their age (default 1). */
  keepLast?: number;
  /** Files no snapshot references are deleted only once older than this (default 60), so in-flight writes survive. */
  orphanMinutes?: number;
}

export interface LakeSettings {
  /** Where data files live: a folder (default './lake') or a URL of a registered storage (`s3://bucket/prefix`). */
  path?: string;
  retention?: RetentionSettings;
  /** Compaction merges files smaller than this (default 64 MB). */
  smallFileMB?: number;
}

export interface EngineSettings {
  threads?: number;
  /** DuckDB memory limit, e.g. '2GB'. */
  memoryLimit?: string;
}

export type Severity = 'warn' | 'error';

/** Options every check takes: `error` (default) blocks downstream models, `warn` only reports. */
export interface CheckOptions {
  severity?: Severity;
  /** Shown in reports; defaults to a description of the check, e.g. `not_null(id)`. */
  name?: string;
}

/**
 * Check kinds by name, each with its own options (checks/builtin.ts). A new kind adds its options here by
 * declaration merging: `declare module '…/config/types.js' { interface CheckKinds { max_length: {…} } }`.
 */
export interface CheckKinds {
  not_null: { kind: 'not_null'; column: string };
  unique: { kind: 'unique'; columns: string[] };
  accepted_values: { kind: 'accepted_values'; column: string; values: (string | number | boolean)[] };
  range: { kind: 'range'; column: string; min?: number; max?: number };
  row_count: { kind: 'row_count'; min?: number; max?: number };
  freshness: { kind: 'freshness'; column: string; maxAgeHours: number };
  relationships: { kind: 'relationships'; column: string; to: string; field: string };
  sql: { kind: 'sql'; query: string };
}

/** A data-quality check on one table. Each compiles to a query returning the failing rows. */
export type CheckSpec = CheckOptions & CheckKinds[keyof CheckKinds];

/** How a table is served: its key (for GET by key), and what aggregations may use. */
export interface ServedTable {
  /** Column(s) identifying a row: `GET /api/v1/tables/{layer}/{table}/{key}` (composite keys joined by `,`). */
  key?: string | string[];
  /** Aggregate expressions allowed in `?measure=`, exactly as written here, e.g. 'sum(line_total)', 'count(*)'. */
  measures?: string[];
  /** Columns allowed in `?by=`. */
  dimensions?: string[];
  /** Date or timestamp column that `?period=day|week|month|quarter|year` buckets. */
  timeColumn?: string;
}

/**
 * A named endpoint under /api/v1, declared on top of the generic table API:
 * - list: rows of a table, with fixed query parameters mapped to filters, and GET …/{key} when `key` is set;
 * - aggregate: measures over a table, optionally per period chosen by a parameter;
 * - pipeline: the pipeline's status (tables, last runs, failing checks) or refresh times.
 */
export type EndpointSpec =
  | {
      kind: 'list';
      table: string;
      key?: string;
      /** Query parameter → column and comparison (default eq). */
      filters?: Record<string, string | { column: string; op: 'eq' | 'gte' | 'lte' | 'in' }>;
      /** Default order, e.g. '-total_ca' for descending. */
      sort?: string;
      description?: string;
    }
  | {
      kind: 'aggregate';
      table: string;
      /** Output name → aggregate expression (trusted: it comes from the config). */
      measures: Record<string, string>;
      /** Bucket rows by a period chosen with a query parameter, mapping its values to day/week/month/quarter/year. */
      period?: { column: string; param: string; values: Record<string, 'day' | 'week' | 'month' | 'quarter' | 'year'> };
      description?: string;
    }
  | { kind: 'pipeline'; report: 'status' | 'refresh-times'; description?: string };

export interface DashboardChart {
  title: string;
  /** A path under /api/v1 returning rows (a declared endpoint or a generic table/aggregation URL). */
  source: string;
  type: 'line' | 'bar' | 'doughnut' | 'table' | 'kpi';
  /** Column for the x axis / labels, and column(s) plotted. */
  x?: string;
  y?: string | string[];
  /** For tables: a query parameter users can filter with (e.g. `pays`, or `country` on a generic table URL). */
  filter?: string;
  /** Which array of the response holds the rows (default `rows`), e.g. `runs` for /pipeline/status. */
  field?: string;
  /** For line and bar charts: a granularity selector (the source is called with `{param}=<choice>`). */
  granularity?: { param: string; choices: string[] };
}

export interface DashboardPage {
  id: string;
  title: string;
  charts: DashboardChart[];
}

export interface ServeSettings {
  port?: number;
  /** Default 127.0.0.1: only this machine. */
  host?: string;
  /** Tables served by the generic API: names or patterns like 'gold.*' (default ['gold.*']). */
  expose?: string[];
  tables?: Record<string, ServedTable>;
  endpoints?: Record<string, EndpointSpec>;
  /** Bearer tokens; when any is set, every route but /health needs one. Use ${ENV} to keep them out of the file. */
  auth?: { tokens: string[] };
  cors?: { origins: string[] };
  rateLimit?: { max: number; windowSeconds?: number };
  /** How often new snapshots are looked for, in milliseconds (default 1000). */
  refreshMs?: number;
  /** Served snapshots up to this many rows are held in memory (default 1,000,000); larger ones are read from Parquet. */
  memoryRows?: number;
  /** The dashboard: its pages, and the language of its own words (`locale`: 'en', the default, or 'fr'). */
  dashboard?: { title?: string; locale?: 'en' | 'fr'; pages?: DashboardPage[] };
}

export interface TributaryConfig {
  name?: string;
  lake?: LakeSettings;
  /** 'embedded' (default: a DuckDB file inside the lake) or a PostgreSQL URL; `?schema=name` picks the schema. */
  catalog?: string;
  engine?: EngineSettings;
  sources?: Record<string, SourceConfig>;
  tables?: Record<string, TableConfig>;
  /** Folder of SQL models, `<layer>/<name>.sql` (default './models'). */
  models?: string;
  /** Data-quality checks per table (`layer.table`). */
  checks?: Record<string, CheckSpec[]>;
  serve?: ServeSettings;
  /** Operational store: gold tables upserted into PostgreSQL by key (`tributary sync`). */
  store?: StoreSettings;
  /**
   * Where streams' topics live: 'embedded' (default: files in `.tributary/log`), 'embedded:<folder>', or Apache Kafka
   * as 'kafka://host:port[,host:port…]'. The same streams run on either.
   */
  log?: string;
  /** Stream definitions, by name (letters, digits, '-' and '_'). */
  streams?: Record<string, StreamConfig>;
  /** Jobs: selections of assets run together, by hand, on cron schedules or when a sensor fires. */
  jobs?: Record<string, JobConfig>;
  /** Sensors: conditions polled by the scheduler that start a job when they hold. */
  sensors?: Record<string, SensorConfig>;
  /**
   * Declarative automation: models (names, layers or patterns like 'gold.*') rebuilt as soon as an input table
   * gets a new snapshot, with their automated downstream models, instead of waiting for a schedule.
   */
  automate?: string[];
  /** Workers, failure notifications and scheduler timings. */
  orchestration?: OrchestrationSettings;
}

/**
 * Assets a job runs, as selectors:
 * - `source:<name>` ingests a declared source (`source:*`: all of them);
 * - `<layer>.<model>`, `<layer>` or `gold.*` builds models (each with its checks);
 * - `check:<table>` runs the checks of a table no model builds (a source's table);
 * - `sync:<table>` upserts a table into the operational store (`sync:*`: all of them);
 * - `stream:<name>` processes what a stream's topic holds, then stops;
 * - `*`: every asset. A leading `+` adds everything upstream, a trailing `+` everything downstream.
 */
export interface JobConfig {
  select: string[];
  description?: string;
  /** Cron expressions (5 or 6 fields, or @hourly, @daily, @weekly, @monthly, @yearly). */
  schedule?: string | string[];
  /** IANA time zone the schedule is read in (default 'UTC'), e.g. 'Europe/Paris'. */
  timezone?: string;
  /** Date partitions: each run processes one day or month; scheduled runs take the period that just ended. */
  partitions?: { granularity: 'day' | 'month'; start: string };
  /** Retries of a failed task (default 2), after exponential backoff with jitter from `retryDelay` (default '10s') up to `maxRetryDelay` (default '10m'). */
  retries?: number;
  retryDelay?: Duration;
  maxRetryDelay?: Duration;
  /** A task attempt running longer than this is stopped and counts as failed (default '1h'). */
  timeout?: Duration;
  /** Tasks of one run executed at once (default 4). */
  concurrency?: number;
}

/** What a sensor watches. */
export type SensorCondition =
  /** Fires when files matching the glob appear (or change), relative to the project folder. */
  | { kind: 'files'; glob: string | string[] }
  /** Fires when a lake table gets a new snapshot. */
  | { kind: 'table'; table: string }
  /** Fires when the endpoint answers 2xx with a response (ETag, Last-Modified or body) different from the last firing. */
  | { kind: 'http'; url: string; headers?: Record<string, string> };

export type SensorConfig = {
  /** The job started when the sensor fires. */
  job: string;
  /** How often the condition is evaluated (default '30s'). */
  interval?: Duration;
} & SensorCondition;

export interface OrchestrationSettings {
  /** Tasks one `tributary dev` or `tributary worker` process runs at once (default 2). */
  workerConcurrency?: number;
  /** A running task whose worker has not reported for this long is retried elsewhere (default '60s'). */
  lostAfter?: Duration;
  /** How often workers report on their running tasks (default '5s'). */
  heartbeat?: Duration;
  /** POST a Slack-compatible JSON message (`{"text": …}`) to this URL when a run fails (and, with `notifyOn`, succeeds). */
  webhook?: string;
  notifyOn?: ('failure' | 'success')[];
}

/** A duration: milliseconds, or a string like '500ms', '30s', '1m', '2h', '1d'. */
export type Duration = number | string;

/** Types of event fields; a trailing '?' makes the field optional. `timestamp` accepts ISO-8601 strings or epoch ms. */
export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp';

/** An event as the stream sees it after decoding: a JSON object (timestamps as given, validated). */
export type StreamEvent = Record<string, unknown>;

export type WindowSpec =
  | { kind: 'tumbling'; size: Duration }
  /**
   * Hopping windows of `size`, one starting every `advance`: an event belongs to size/advance windows (Kafka
   * Streams' word). `'sliding'` is accepted as an alias; Kafka Streams' sliding windows (one per event, by the time
   * difference between records) are not implemented.
   */
  | { kind: 'hopping' | 'sliding'; size: Duration; advance: Duration }
  /** Per key, events closer than `gap` to each other form one window. */
  | { kind: 'session'; gap: Duration };

export type AggregateSpec = { fn: 'count'; field?: string } | { fn: 'sum' | 'avg' | 'min' | 'max'; field: string };

/** A windowed, keyed aggregation written to a lake table (the key of `StreamConfig.outputs`). */
export interface StreamOutput {
  window: WindowSpec;
  /** Event fields the rows are grouped by (columns after window_start, window_end). */
  groupBy?: string[];
  /** Column name → aggregate. */
  aggregates: Record<string, AggregateSpec>;
  /**
   * 'on-window-close' (default): a row is appended once, final, when the watermark passes the window's end.
   * 'on-update': the table also shows open windows' current values (column `is_final` tells them apart).
   */
  emit?: 'on-window-close' | 'on-update';
  /** How long after the watermark passes its end a window still accepts late events (default 0). */
  allowedLateness?: Duration;
  /**
   * Also publish emitted rows to this topic (at least once), as JSON keyed by `[window_start, window_end, ...group]`;
   * on-update outputs publish every update with `is_final: false`, then the final row with `is_final: true`.
   */
  topic?: string;
  /** Partitions of `topic` when the stream creates it (default 1); rows of one window and group share one. */
  topicPartitions?: number;
  /** The format of the output topic's values (default 'json'). */
  format?: SerdeSpec;
}

export interface StreamConfig {
  /** Source topic. */
  topic: string;
  /** Partitions of the source topic when the stream creates it (default 1). */
  partitions?: number;
  /** The format of record values: a registered serde's kind, or `{ kind, …options }` (default 'json'; see serdes/). */
  format?: SerdeSpec;
  /** Expected fields; an event without a required field, or with a wrong type, goes to the dead-letter queue. */
  fields?: Record<string, FieldType | `${FieldType}?`>;
  /** The field holding the event's time (ISO-8601 string or epoch milliseconds). */
  eventTime: string;
  /**
   * Maximum out-of-orderness: the watermark trails event time by this much. Event time is the smallest, over the
   * source's partitions, of the largest event time each has delivered.
   */
  watermark: Duration;
  /** A partition that delivers nothing for this long no longer holds the watermark back (default '30s'). */
  idleTimeout?: Duration;
  /**
   * Event times a stream accepts. An event outside goes to the dead-letter queue (`event_time_out_of_range`) and
   * does not move the watermark, so one event dated 9999-12-31 cannot close every window early.
   * `maxAhead`: how far ahead of the processing clock (default '1h', Kafka's `message.timestamp.after.max.ms`;
   * false: no limit). `maxBehind`: how far behind it (default: no limit). Always within years 0001–9999, the range
   * the lake, SQL and the API can hold.
   */
  eventTimeLimits?: { maxAhead?: Duration | false; maxBehind?: Duration | false };
  /** Keep only events for which this returns true. */
  filter?: (event: StreamEvent) => boolean;
  /** Reshape events; returning null or undefined drops the event. */
  map?: (event: StreamEvent) => StreamEvent | null | undefined;
  /** Lake table name → windowed aggregation. */
  outputs: Record<string, StreamOutput>;
  /** Raw landing table: every record consumed, as bytes with topic/partition/offset (default `bronze.<stream>_raw`; false: none). */
  landing?: string | false;
  /** Dead-letter queue: lake table (default `bronze.<stream>_dlq`) and topic (default `<topic>.dlq`; false: none). */
  dlq?: { table?: string; topic?: string | false };
  /** Events too late for their window (default `bronze.<stream>_late`). */
  lateTable?: string;
  /** Larger records go to the dead-letter queue unread (default 1 MiB). */
  maxEventBytes?: number;
  /** Where a stream with no checkpoint starts (default 'earliest'). */
  startingOffsets?: 'earliest' | 'latest';
  /** Micro-batches: at most one every `intervalMs` (default 250), each of at most `maxRecords` (default 50,000). */
  trigger?: { intervalMs?: number; maxRecords?: number };
  /** Compact the stream's tables every this many batches (default 500; 0: never). */
  compactEvery?: number;
}

export interface StoreSettings {
  /** postgres://… URL; `?schema=` picks the schema (default 'public'). */
  url: string;
  /** Table → key column(s) of the rows synced. */
  /**
   * Table → key column(s) of the rows synced, the target table's name, and `indexes` (columns, or lists of columns)
   * created beside the ones made for the API's declared dimensions and time column of the table.
   */
  tables: Record<string, { key: string | string[]; target?: string; indexes?: (string | string[])[] }>;
  /** What happens to rows whose key left the source: 'delete' (default) or 'flag' (a `_deleted` column set true). */
  onDelete?: 'delete' | 'flag';
}

/**
 * Catalog locations by backend kind. A registered backend (catalog/backends.ts) adds `{ kind: '<kind>'; url: string }`
 * by declaration merging; its locations are written `<kind>://…` in the `catalog` setting.
 */
export interface CatalogLocations {
  embedded: { kind: 'embedded'; path: string };
  postgres: { kind: 'postgres'; url: string; schema: string };
}

export type CatalogLocation = CatalogLocations[keyof CatalogLocations];

/** A config after interpolation, validation and defaults, with absolute paths. */
export interface ResolvedConfig {
  name: string;
  projectDir: string;
  configFile: string | undefined;
  /** A local folder: the lake itself, or for a lake on object storage its local scratch (temp files, embedded catalog). */
  lakePath: string;
  /** Where the lake's files live: a local path or a URL whose scheme names a registered storage (`s3://…`). */
  lakeLocation: string;
  catalog: CatalogLocation;
  engine: EngineSettings;
  retention: Required<RetentionSettings>;
  smallFileBytes: number;
  sources: Record<string, SourceConfig>;
  tables: Record<string, TableConfig>;
  modelsPath: string;
  checks: Record<string, CheckSpec[]>;
  serve: ServeSettings;
  store: StoreSettings | undefined;
  log: LogLocation;
  streams: Record<string, StreamConfig>;
  jobs: Record<string, JobConfig>;
  sensors: Record<string, SensorConfig>;
  automate: string[];
  orchestration: OrchestrationSettings;
}

export type LogLocation = { kind: 'embedded'; path: string } | { kind: 'kafka'; brokers: string[] };
