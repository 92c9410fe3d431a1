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
}

/** Later issues add sql, http, ocr and kafka sources to this union. */
export type SourceConfig = FileSourceConfig;

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
  /** Where data files live (default './lake'). */
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

/** A data-quality check on one table. Each compiles to a query returning the failing rows. */
export type CheckSpec = CheckOptions &
  (
    | { kind: 'not_null'; column: string }
    | { kind: 'unique'; columns: string[] }
    | { kind: 'accepted_values'; column: string; values: (string | number | boolean)[] }
    | { kind: 'range'; column: string; min?: number; max?: number }
    | { kind: 'row_count'; min?: number; max?: number }
    | { kind: 'freshness'; column: string; maxAgeHours: number }
    | { kind: 'relationships'; column: string; to: string; field: string }
    | { kind: 'sql'; query: string }
  );

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
}

export type CatalogLocation =
  | { kind: 'embedded'; path: string }
  | { kind: 'postgres'; url: string; schema: string };

/** A config after interpolation, validation and defaults, with absolute paths. */
export interface ResolvedConfig {
  name: string;
  projectDir: string;
  configFile: string | undefined;
  lakePath: string;
  catalog: CatalogLocation;
  engine: EngineSettings;
  retention: Required<RetentionSettings>;
  smallFileBytes: number;
  sources: Record<string, SourceConfig>;
  tables: Record<string, TableConfig>;
  modelsPath: string;
  checks: Record<string, CheckSpec[]>;
}
