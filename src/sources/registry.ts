import type { SourceConfig } from '../config/types.js';
import { Registry } from '../util/registry.js';
import type { SourceConfigBase, SourceConnector } from './connector.js';
import { documentsConnector } from './documents/connector.js';
import { filesConnector } from './files/connector.js';
import { httpConnector } from './http/connector.js';
import { sqlConnector } from './sql/connector.js';

/**
 * Connectors by kind. Each was registered with its own config type; stored here, it takes any source's config: the
 * kind's own schema is what parses a config of that kind, so each connector only ever sees its own.
 */
const kinds = new Registry<SourceConnector<SourceConfig>>('source kind');

/**
 * Makes a source kind available to configs (`sources: { x: { kind: '<kind>', … } }`), ingestion, jobs and freshness
 * tests. Registering again replaces (a config loaded again); a built-in kind cannot be replaced.
 */
export function registerSourceKind<C extends SourceConfigBase>(connector: SourceConnector<C>): void {
  kinds.register(connector.kind, connector as unknown as SourceConnector<SourceConfig>);
}

/** Removes a kind (tests that register their own). */
export function unregisterSourceKind(kind: string): void {
  kinds.unregister(kind);
}

export function sourceKinds(): string[] {
  return kinds.names().sort();
}

/** The lake tables a source writes: its `into`, and what its connector adds (a cdc source's current-state table). */
export function sourceWrites(config: SourceConfig): string[] {
  return kinds.get(config.kind)?.writes?.(config) ?? [config.into];
}

/** SQL over the lake a source runs before it reads (an HTTP lookup's keys): what its asset waits for. */
export function sourceLakeQueries(config: SourceConfig): string[] {
  return kinds.get(config.kind)?.lakeQueries?.(config) ?? [];
}

/** The connector of a kind; an unknown kind is named, with the nearest known one. */
export function sourceConnector(kind: string, where = 'sources'): SourceConnector<SourceConfig> {
  return kinds.require(kind, where);
}

// The built-in kinds. A new kind is a folder under sources/ and one line here.
for (const connector of [filesConnector, sqlConnector, httpConnector, documentsConnector])
  kinds.register(connector.kind, connector as unknown as SourceConnector<SourceConfig>, { builtIn: true });
