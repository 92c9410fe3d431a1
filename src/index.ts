/** Tributary's public library API: what config files and programs import from 'tributary-data'. */
export { agg, checks, defineConfig, files, stream, windows } from './config/define.js';
export { loadConfig, resolveConfig } from './config/load.js';
export type * from './config/types.js';
export { Lake, type WrittenFiles, type VacuumReport } from './lake/lake.js';
export { parseAsOf, type AsOf } from './lake/as-of.js';
export { parseTableName, type TableRef } from './lake/table-name.js';
export { Catalog } from './catalog/catalog.js';
export { openCatalog } from './catalog/open.js';
export type { CatalogDriver, CatalogSession } from './catalog/driver.js';
export type * from './catalog/types.js';
export type { Storage, StoredObject } from './storage/storage.js';
export { LocalStorage } from './storage/local.js';
export { Engine, type QueryResult } from './engine/engine.js';
export { runIngest, runIngestFiles, retryQuarantined, type IngestRunReport } from './ingest/run.js';
export type { SourceReport, IngestProgress, IngestOptions } from './sources/connector.js';
export { TributaryError, type ErrorCode } from './errors.js';
