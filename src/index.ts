/** Tributary's public library API: what config files and programs import from 'tributary-data'. */
export { agg, checks, defineConfig, documents, files, http, sql, sqlTables, stream, windows } from './config/define.js';
export { loadConfig, resolveConfig } from './config/load.js';
export type * from './config/types.js';
export { Lake, type WrittenFiles, type VacuumReport } from './lake/lake.js';
export { parseAsOf, type AsOf } from './lake/as-of.js';
export { parseTableName, type TableRef } from './lake/table-name.js';
export { Catalog } from './catalog/catalog.js';
export { openCatalog } from './catalog/open.js';
export type { CatalogDriver, CatalogSession, DialectAdapter } from './catalog/driver.js';
export { registerCatalogBackend, type CatalogBackend } from './catalog/backends.js';
export type * from './catalog/types.js';
export { LocalStorage, openStorage, registerStorage, type Storage, type StorageOpener, type StoredObject } from './storage/index.js';
export { Engine, type QueryResult } from './engine/engine.js';
export { runIngest, runIngestFiles, retryQuarantined, type IngestRunReport } from './ingest/run.js';
export {
  emptyReport,
  type SourceReport,
  type IngestProgress,
  type IngestOptions,
  type SourceConnector,
  type SourceConfigBase,
  type SourceContext,
  type SourcePlan,
} from './sources/connector.js';
export { registerSourceKind } from './sources/registry.js';
export { appendBatches, type SourceBatch } from './sources/batches.js';
export { createSerde, registerSerde, type Serde, type SerdeFactory, type SerdeSpec } from './serdes/index.js';
export { registerCheckKind, type CheckKind } from './checks/kinds.js';
export { registerAssetKind, type AssetDeclaration, type AssetKindHandler, type TaskContext, type TaskSummary } from './orchestration/kinds/index.js';
export { EXIT_CODES, HTTP_STATUSES, TributaryError, categoryOf, type ErrorCategory, type ErrorCode } from './errors.js';
/** The current state (last change per key) of a `cdc` source's table of changes, as SQL. */
export { currentStateSql } from './sources/sql/cdc.js';
