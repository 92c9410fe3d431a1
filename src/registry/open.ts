import type { CatalogDriver } from '../catalog/driver.js';
import type { ResolvedConfig } from '../config/types.js';
import type { Lake } from '../lake/lake.js';
import type { SerdeContext } from '../serdes/serde.js';
import { CatalogRegistryClient, HttpRegistryClient, type RegistryClient } from './client.js';
import type { SchemaInput } from './registry.js';

/** The registry a project's formats use (`registry` in the config), over a catalog opened when first needed. */
export function registryClient(config: ResolvedConfig, driver: () => Promise<CatalogDriver>): RegistryClient {
  if (config.registry.kind === 'http') return new HttpRegistryClient(config.registry.url);
  let client: Promise<CatalogRegistryClient> | undefined;
  const open = () => (client ??= driver().then((d) => new CatalogRegistryClient(d)));
  return {
    location: 'embedded (the catalog)',
    schemaById: async (id: number) => (await open()).schemaById(id),
    version: async (subject: string, version: number | 'latest') => (await open()).version(subject, version),
    idOf: async (subject: string, input: SchemaInput, options: { register: boolean }) => (await open()).idOf(subject, input, options),
    compatibility: async (subject: string, input: SchemaInput) => (await open()).compatibility(subject, input),
    register: async (subject: string, input: SchemaInput) => (await open()).register(subject, input),
  };
}

/** What a lake's formats need: its project folder and its registry. */
export function serdeContextOf(lake: Lake): SerdeContext {
  return serdeContext(lake.config, async () => lake.catalog.driver);
}

/**
 * The formats' context for a config whose catalog is opened later (a stream worker compiles its stream before it
 * opens the lake): `driver` is only called when a record first needs the registry.
 */
export function serdeContext(config: ResolvedConfig, driver: () => Promise<CatalogDriver>): SerdeContext {
  let client: RegistryClient | undefined;
  return { projectDir: config.projectDir, registry: () => (client ??= registryClient(config, driver)) };
}
