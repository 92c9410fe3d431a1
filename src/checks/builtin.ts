import { z } from 'zod';
import { quoteIdent, quoteLiteral } from '../engine/sql.js';
import { tableReferences } from '../engine/references.js';
import { type CheckKind, registerBuiltInCheckKind } from './kinds.js';

import { tableNameSchema } from '../lake/table-name.js';

const column = z.string().min(1);

/** The built-in kinds' options; their types (`BuiltinCheckKinds`) are inferred from these. */
const schemas = {
  not_null: z.strictObject({ kind: z.literal('not_null'), column }),
  unique: z.strictObject({ kind: z.literal('unique'), columns: z.array(column).min(1) }),
  accepted_values: z.strictObject({ kind: z.literal('accepted_values'), column, values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
  range: z.strictObject({ kind: z.literal('range'), column, min: z.number().optional(), max: z.number().optional() }),
  row_count: z.strictObject({ kind: z.literal('row_count'), min: z.number().int().optional(), max: z.number().int().optional() }),
  freshness: z.strictObject({ kind: z.literal('freshness'), column, maxAgeHours: z.number().positive() }),
  relationships: z.strictObject({ kind: z.literal('relationships'), column, to: tableNameSchema, field: column }),
  sql: z.strictObject({ kind: z.literal('sql'), query: z.string().min(1) }),
};

/** Check kinds by name (the `CheckKinds` of config/types.ts starts from these). */
export type BuiltinCheckKinds = { [K in keyof typeof schemas]: z.infer<(typeof schemas)[K]> };
type CheckKinds = BuiltinCheckKinds;

function literal(v: string | number | boolean): string {
  return typeof v === 'string' ? quoteLiteral(v) : String(v);
}

const notNull: CheckKind<CheckKinds['not_null']> = {
  kind: 'not_null',
  schema: schemas.not_null,
  name: (s) => `not_null(${s.column})`,
  failingRows: (t, s) => `SELECT * FROM ${t} WHERE ${quoteIdent(s.column)} IS NULL`,
};

const unique: CheckKind<CheckKinds['unique']> = {
  kind: 'unique',
  schema: schemas.unique,
  name: (s) => `unique(${s.columns.join(', ')})`,
  failingRows: (t, s) => {
    const cols = s.columns.map(quoteIdent).join(', ');
    return `SELECT ${cols}, count(*) AS occurrences FROM ${t} GROUP BY ALL HAVING count(*) > 1 ORDER BY occurrences DESC`;
  },
};

const acceptedValues: CheckKind<CheckKinds['accepted_values']> = {
  kind: 'accepted_values',
  schema: schemas.accepted_values,
  name: (s) => `accepted_values(${s.column})`,
  failingRows: (t, s) =>
    `SELECT * FROM ${t} WHERE ${quoteIdent(s.column)} IS NOT NULL AND ${quoteIdent(s.column)} NOT IN (${s.values.map(literal).join(', ')})`,
};

const range: CheckKind<CheckKinds['range']> = {
  kind: 'range',
  schema: schemas.range,
  name: (s) => `range(${s.column}${s.min !== undefined ? `, min ${s.min}` : ''}${s.max !== undefined ? `, max ${s.max}` : ''})`,
  failingRows: (t, s) => {
    const c = quoteIdent(s.column);
    const bounds = [s.min !== undefined ? `${c} < ${s.min}` : '', s.max !== undefined ? `${c} > ${s.max}` : ''].filter(Boolean);
    return `SELECT * FROM ${t} WHERE ${bounds.length ? bounds.join(' OR ') : 'false'}`;
  },
};

const rowCount: CheckKind<CheckKinds['row_count']> = {
  kind: 'row_count',
  schema: schemas.row_count,
  name: (s) => `row_count(${s.min ?? ''}..${s.max ?? ''})`,
  failingRows: (t, s) => {
    const bounds = [s.min !== undefined ? `count(*) < ${s.min}` : '', s.max !== undefined ? `count(*) > ${s.max}` : ''].filter(Boolean);
    return `SELECT count(*) AS row_count FROM ${t} HAVING ${bounds.length ? bounds.join(' OR ') : 'false'}`;
  },
};

const freshness: CheckKind<CheckKinds['freshness']> = {
  kind: 'freshness',
  schema: schemas.freshness,
  name: (s) => `freshness(${s.column}, ${s.maxAgeHours}h)`,
  failingRows: (t, s) => {
    const latest = `max(CAST(${quoteIdent(s.column)} AS TIMESTAMPTZ))`;
    return `SELECT ${latest} AS latest FROM ${t} HAVING ${latest} IS NULL OR ${latest} < now() - to_minutes(CAST(${Math.round(s.maxAgeHours * 60)} AS BIGINT))`;
  },
};

const relationships: CheckKind<CheckKinds['relationships']> = {
  kind: 'relationships',
  schema: schemas.relationships,
  name: (s) => `relationships(${s.column} → ${s.to}.${s.field})`,
  failingRows: (t, s) => {
    const to = s.to.split('.').map(quoteIdent).join('.');
    return `SELECT * FROM ${t} AS child WHERE child.${quoteIdent(s.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${to} AS parent WHERE parent.${quoteIdent(s.field)} = child.${quoteIdent(s.column)})`;
  },
  reads: async (s) => [s.to],
};

const sql: CheckKind<CheckKinds['sql']> = {
  kind: 'sql',
  schema: schemas.sql,
  name: () => 'sql',
  failingRows: (_t, s) => s.query.trim().replace(/;\s*$/, ''),
  reads: async (s, engine, table) => (await tableReferences(engine, sql.failingRows('', s), `check sql of ${table}`)).filter((t) => t !== table),
};

// The built-in kinds. A new kind is a CheckKind (here or in a file of its own) and one line.
for (const kind of [notNull, unique, acceptedValues, range, rowCount, freshness, relationships, sql]) registerBuiltInCheckKind(kind as CheckKind<never>);
