import type { CatalogLocation } from '../config/types.js';
import { Registry } from '../util/registry.js';
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

const backends = new Registry<CatalogBackend>('catalog backend');

/** Makes `catalog: '<kind>://…'` open this backend. Registering again replaces; the built-in backends stay. */
export function registerCatalogBackend(backend: CatalogBackend): void {
  backends.register(backend.kind, backend);
}

export function unregisterCatalogBackend(kind: string): void {
  backends.unregister(kind);
}

/** Whether `<scheme>://…` names a registered backend (built-ins have their own syntax: embedded, duckdb:, postgres://). */
export function isCatalogScheme(scheme: string): boolean {
  return backends.has(scheme) && !backends.isBuiltIn(scheme);
}

export function catalogDriver(location: CatalogLocation): CatalogDriver {
  return backends.require(location.kind, 'catalog').open(location);
}

// The built-in backends. A new one is a folder beside embedded/ and postgres/ and one line here.
const builtIn = (backend: CatalogBackend) => backends.register(backend.kind, backend, { builtIn: true });
builtIn({ kind: 'embedded', open: (l) => new DuckDbCatalogDriver((l as Extract<CatalogLocation, { kind: 'embedded' }>).path) });
builtIn({
  kind: 'postgres',
  open: (l) => {
    const { url, schema } = l as Extract<CatalogLocation, { kind: 'postgres' }>;
    return new PostgresCatalogDriver(url, schema);
  },
});
