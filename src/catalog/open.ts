import type { CatalogLocation } from '../config/types.js';
import { Catalog } from './catalog.js';
import { DuckDbCatalogDriver } from './embedded/duckdb-driver.js';
import { PostgresCatalogDriver } from './postgres/pg-driver.js';

/** Picks the driver for a location and brings the schema up to date. */
export async function openCatalog(location: CatalogLocation): Promise<Catalog> {
  const driver = location.kind === 'embedded' ? new DuckDbCatalogDriver(location.path) : new PostgresCatalogDriver(location.url, location.schema);
  const catalog = new Catalog(driver);
  try {
    await catalog.migrate();
  } catch (err) {
    await catalog.close().catch(() => undefined);
    throw err;
  }
  return catalog;
}
