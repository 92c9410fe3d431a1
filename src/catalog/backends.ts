import type { CatalogLocation } from '../config/types.js';
import { TributaryError } from '../errors.js';
import type { CatalogDriver } from './driver.js';
import { DuckDbCatalogDriver } from './embedded/duckdb-driver.js';
import { PostgresCatalogDriver } from './postgres/pg-driver.js';

/**
 * A catalog backend: a driver (catalog/driver.ts: parameterised SQL, transactions, a dialect adapter) for the
 * locations of its kind. The catalog's queries are written once; a backend only runs them.
 */
export interface CatalogBackend {
  /** The location kind (`embedded`, `postgres`), and for registered backends the `catalog` URL scheme (`<kind>://…`). */
  readonly kind: string;
  open(location: CatalogLocation): CatalogDriver;
}

const backends = new Map<string, CatalogBackend>();

export function registerCatalogBackend(backend: CatalogBackend): void {
  if (backends.has(backend.kind)) throw new TributaryError('CONFIG_INVALID', `catalog backend "${backend.kind}" is already registered`);
  backends.set(backend.kind, backend);
}

export function unregisterCatalogBackend(kind: string): void {
  if (kind !== 'embedded' && kind !== 'postgres') backends.delete(kind);
}

/** Whether `<scheme>://…` names a registered backend (built-ins have their own syntax: embedded, duckdb:, postgres://). */
export function isCatalogScheme(scheme: string): boolean {
  return backends.has(scheme) && scheme !== 'embedded' && scheme !== 'postgres';
}

export function catalogDriver(location: CatalogLocation): CatalogDriver {
  const backend = backends.get(location.kind);
  if (!backend) throw new TributaryError('CONFIG_INVALID', `catalog: no backend for "${location.kind}" (backends: ${[...backends.keys()].join(', ')})`);
  return backend.open(location);
}

// The built-in backends. A new one is a folder beside embedded/ and postgres/ and one line here.
registerCatalogBackend({ kind: 'embedded', open: (l) => new DuckDbCatalogDriver((l as Extract<CatalogLocation, { kind: 'embedded' }>).path) });
registerCatalogBackend({
  kind: 'postgres',
  open: (l) => {
    const { url, schema } = l as Extract<CatalogLocation, { kind: 'postgres' }>;
    return new PostgresCatalogDriver(url, schema);
  },
});
