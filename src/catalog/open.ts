import type { CatalogLocation } from '../config/types.js';
import { catalogDriver } from './backends.js';
import { Catalog } from './catalog.js';

/** Opens the driver of a location's backend (catalog/backends.ts) and brings the schema up to date. */
export async function openCatalog(location: CatalogLocation): Promise<Catalog> {
  const catalog = new Catalog(catalogDriver(location));
  try {
    await catalog.migrate();
  } catch (err) {
    await catalog.close().catch(() => undefined);
    throw err;
  }
  return catalog;
}
