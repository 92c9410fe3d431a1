import type { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import { TributaryError } from '../errors.js';
import { nearest } from '../util/nearest.js';

/**
 * A kind of data-quality check (dbt's generic test): its options' schema (`severity` and `name` are added for every
 * kind), its default name in reports, the query returning the rows that fail it, and the other tables it reads.
 */
export interface CheckKind<S extends { kind: string } = { kind: string }> {
  readonly kind: S['kind'];
  /** The check's own options, `kind` included (a zod object: the common options are added to it). */
  readonly schema: z.ZodObject<z.ZodRawShape>;
  /** How reports name it when the config gives no `name`, e.g. `not_null(id)`. */
  name(spec: S): string;
  /** A SELECT returning the failing rows of `table` (`"layer"."table"`, quoted); no rows: the check passes. */
  failingRows(table: string, spec: S): string;
  /** Lake tables besides its own that the check reads (mounted before it runs, and part of its freshness). */
  reads?(spec: S, engine: Engine, table: string): Promise<string[]>;
}

const kinds = new Map<string, CheckKind>();

export function registerCheckKind<S extends { kind: string }>(kind: CheckKind<S>): void {
  if (kinds.has(kind.kind)) throw new TributaryError('CONFIG_INVALID', `check kind "${kind.kind}" is already registered`);
  kinds.set(kind.kind, kind as unknown as CheckKind);
}

const BUILT_IN = new Set(['not_null', 'unique', 'accepted_values', 'range', 'row_count', 'freshness', 'relationships', 'sql']);

export function unregisterCheckKind(kind: string): void {
  if (!BUILT_IN.has(kind)) kinds.delete(kind);
}

export function checkKinds(): string[] {
  return [...kinds.keys()].sort();
}

export function checkKind(kind: string): CheckKind {
  const found = kinds.get(kind);
  if (!found) {
    const near = nearest(kind, checkKinds());
    throw new TributaryError('CONFIG_INVALID', `unknown check kind "${kind}" (${near ? `did you mean "${near}"? ` : ''}kinds: ${checkKinds().join(', ')})`);
  }
  return found;
}
