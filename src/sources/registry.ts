import type { SourceConfig } from '../config/types.js';
import { TributaryError } from '../errors.js';
import { nearest } from '../util/nearest.js';
import type { SourceConfigBase, SourceConnector } from './connector.js';
import { filesConnector } from './files/connector.js';

/**
 * Connectors by kind. Each was registered with its own config type; stored here, it takes any source's config: the
 * kind's own schema is what parses a config of that kind, so each connector only ever sees its own.
 */
const kinds = new Map<string, SourceConnector<SourceConfig>>();

/**
 * Makes a source kind available to configs (`sources: { x: { kind: '<kind>', … } }`), ingestion, jobs and freshness
 * tests. A kind registered twice is a mistake, refused with its name.
 */
export function registerSourceKind<C extends SourceConfigBase>(connector: SourceConnector<C>): void {
  if (kinds.has(connector.kind)) throw new TributaryError('CONFIG_INVALID', `source kind "${connector.kind}" is already registered`);
  kinds.set(connector.kind, connector as unknown as SourceConnector<SourceConfig>);
}

/** Removes a kind (tests that register their own). */
export function unregisterSourceKind(kind: string): void {
  if (kind !== 'files') kinds.delete(kind);
}

export function sourceKinds(): string[] {
  return [...kinds.keys()].sort();
}

/** The connector of a kind; an unknown kind is named, with the nearest known one. */
export function sourceConnector(kind: string, where = 'sources'): SourceConnector<SourceConfig> {
  const connector = kinds.get(kind);
  if (!connector) {
    const near = nearest(kind, sourceKinds());
    throw new TributaryError('CONFIG_INVALID', `${where}: unknown source kind "${kind}"`, {
      hint: `${near ? `did you mean "${near}"? ` : ''}source kinds: ${sourceKinds().join(', ')}`,
    });
  }
  return connector;
}

// The built-in kinds. A new kind is a folder under sources/ and one line here.
registerSourceKind(filesConnector);
