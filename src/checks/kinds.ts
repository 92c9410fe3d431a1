import { z } from 'zod';
import type { CheckSpec } from '../config/types.js';
import type { Engine } from '../engine/engine.js';
import { Registry } from '../util/registry.js';

export const severitySchema = z.enum(['warn', 'error']);
export type Severity = z.infer<typeof severitySchema>;

/** Options every check takes, whatever its kind. */
export const checkOptionsSchema = z.strictObject({
  /** `error` (default) blocks downstream models, `warn` only reports. */
  severity: severitySchema.optional(),
  /** Shown in reports; defaults to a description of the check, e.g. `not_null(id)`. */
  name: z.string().min(1).optional(),
  /**
   * An alert of this name fires when the check fails (a rule in `tributary monitoring export` over
   * `tributary_check_failures_total`): a data alert such as "bitcoin fell more than 10 % in 24 h".
   */
  alert: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'alert names use letters, digits and _')
    .optional(),
});
export type CheckOptions = z.infer<typeof checkOptionsSchema>;

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

/**
 * Kinds by name, each with the schema of a whole check of that kind (its options and the common ones). Each kind was
 * registered with its own spec type; stored here, its schema parses into `CheckSpec`, the union of the kinds' types.
 */
const kinds = new Registry<{ kind: CheckKind; spec: z.ZodType<CheckSpec> }>('check kind');

/** Makes a check kind available to configs. Registering again replaces (a config loaded again); built-ins stay. */
export function registerCheckKind<S extends { kind: string }>(kind: CheckKind<S>): void {
  kinds.register(kind.kind, entry(kind));
}

/** The built-in kinds (checks/builtin.ts). */
export function registerBuiltInCheckKind<S extends { kind: string }>(kind: CheckKind<S>): void {
  kinds.register(kind.kind, entry(kind), { builtIn: true });
}

function entry<S extends { kind: string }>(kind: CheckKind<S>): { kind: CheckKind; spec: z.ZodType<CheckSpec> } {
  return { kind: kind as unknown as CheckKind, spec: kind.schema.extend(checkOptionsSchema.shape).strict() as unknown as z.ZodType<CheckSpec> };
}

export function unregisterCheckKind(kind: string): void {
  kinds.unregister(kind);
}

export function checkKinds(): string[] {
  return kinds.names().sort();
}

function registered(kind: string): { kind: CheckKind; spec: z.ZodType<CheckSpec> } {
  return kinds.require(kind);
}

export function checkKind(kind: string): CheckKind {
  return registered(kind).kind;
}

/** The schema of a whole check of this kind: its own options and `severity`, `name`. */
export function checkSpecSchema(kind: string): z.ZodType<CheckSpec> {
  return registered(kind).spec;
}
