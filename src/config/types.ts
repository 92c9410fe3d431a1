import type { z } from 'zod';
import type { BuiltinCheckKinds } from '../checks/builtin.js';
import type { CheckOptions } from '../checks/kinds.js';
import type { EngineSettings } from '../engine/config.js';
import type { RetentionSettings, TableConfig } from '../lake/config.js';
import type { JobConfig, OrchestrationSettings, ProbeConfig, SensorConfig } from '../orchestration/config.js';
import type { ServeSettings } from '../serve/config.js';
import type { FileSourceConfig } from '../sources/files/config.js';
import type { PublicationConfig } from '../publish/config.js';
import type { DocumentsSourceConfig } from '../sources/documents/config.js';
import type { HttpSourceConfig } from '../sources/http/config.js';
import type { SqlSourceConfig } from '../sources/sql/config.js';
import type { StoreSettings } from '../store/config.js';
import type { StreamConfig } from '../streams/config.js';
import type { configSchema } from './schema.js';

/**
 * The config's types. Each feature owns its settings' schema next to its code, and the types are inferred from the
 * schemas (`z.infer`), so that what the compiler checks and what a run validates cannot drift; this file composes
 * them and re-exports them for editors and library users.
 */

export type { CheckOptions, Severity } from '../checks/kinds.js';
export type { EngineSettings } from '../engine/config.js';
export type { LakeSettings, PartitionGranularity, RetentionSettings, TableConfig } from '../lake/config.js';
export type { JobConfig, OrchestrationSettings, ProbeConfig, SensorConfig } from '../orchestration/config.js';
export type { DashboardChart, DashboardPage, EndpointSpec, ServedTable, ServeSettings } from '../serve/config.js';
export type { SerdeSpec } from '../serdes/serde.js';
export type { ColumnSpec, CsvOptions, ErrorPolicy, ExpectedSchema, FileFormat, FileSourceConfig } from '../sources/files/config.js';
export type { SqlCursor, SqlSourceConfig } from '../sources/sql/config.js';
export type { DocumentsSourceConfig } from '../sources/documents/config.js';
export type { PublicationConfig } from '../publish/config.js';
export type { HttpAuthConfig, HttpResourceConfig, HttpSourceConfig, IncrementalConfig, PaginateConfig } from '../sources/http/config.js';
export type { StoreSettings } from '../store/config.js';
export type { AggregateSpec, FieldType, StreamConfig, StreamEvent, StreamOutput, WindowSpec } from '../streams/config.js';
export type { Duration } from '../util/duration.js';

/** The shape of a project's `tributary.config.ts`, as `defineConfig` checks it and a run validates it. */
export type TributaryConfig = z.infer<typeof configSchema>;

/**
 * Source kinds by name. A kind's folder adds its config type here by declaration merging, so that `defineConfig`
 * checks its sources: `declare module '…/config/types.js' { interface SourceKinds { sql: SqlSourceConfig } }`.
 */
export interface SourceKinds {
  files: FileSourceConfig;
  sql: SqlSourceConfig;
  http: HttpSourceConfig;
  documents: DocumentsSourceConfig;
}

/** Any source's config: one of the registered kinds (see sources/registry.ts). */
export type SourceConfig = SourceKinds[keyof SourceKinds];

/**
 * Check kinds by name, each with its own options (checks/builtin.ts). A new kind adds its options here by
 * declaration merging: `declare module '…/config/types.js' { interface CheckKinds { max_length: {…} } }`.
 */
export interface CheckKinds extends BuiltinCheckKinds {}

/** A data-quality check on one table. Each compiles to a query returning the failing rows. */
export type CheckSpec = CheckOptions & CheckKinds[keyof CheckKinds];

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
export type RegistryLocation = { kind: 'embedded' } | { kind: 'http'; url: string };

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
  /** Publish Iceberg metadata after each commit (`lake.iceberg`). */
  iceberg: boolean;
  /** The storage adapter's settings (`lake.storage`). */
  storageOptions: Record<string, unknown>;
  sources: Record<string, SourceConfig>;
  tables: Record<string, TableConfig>;
  modelsPath: string;
  checks: Record<string, CheckSpec[]>;
  serve: ServeSettings;
  store: StoreSettings | undefined;
  log: LogLocation;
  /** The schema registry formats use: the catalog's own (`embedded`), or a Confluent-compatible server's URL. */
  registry: RegistryLocation;
  streams: Record<string, StreamConfig>;
  jobs: Record<string, JobConfig>;
  sensors: Record<string, SensorConfig>;
  probes: Record<string, ProbeConfig>;
  publish: Record<string, PublicationConfig>;
  automate: string[];
  orchestration: OrchestrationSettings;
}

export type LogLocation = { kind: 'embedded'; path: string } | { kind: 'kafka'; brokers: string[] };
