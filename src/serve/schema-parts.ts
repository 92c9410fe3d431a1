import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, type TProperties, type TSchema, Type } from 'typebox';

/**
 * Pieces of the routes' schemas, in TypeBox: each is the JSON Schema Fastify validates with and the OpenAPI
 * document shows, and its TypeScript type (`Static`) is what the route's handler reads and must return, through the
 * TypeBox type provider (`typed`). A response that drifts from its documented schema fails `tsc`.
 */

/** The instance a route plugin registers on, its schemas giving the types of params, query and response. */
export type TypedApp = ReturnType<typeof typed>;

/** The plugin's instance with the TypeBox type provider (types only: validation stays Fastify's ajv). */
export function typed(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

export const text = Type.String();
export const integer = Type.Integer();
export const strings = Type.Array(text);

/** The schema, or null: `type: [t, 'null']`, as OpenAPI 3.1 writes it. */
export function nullable<T extends TSchema>(schema: T) {
  const type = (schema as { type?: unknown }).type;
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] });
}

export const textOrNull = nullable(Type.String());
export const intOrNull = nullable(Type.Integer());
export const numberOrNull = nullable(Type.Number());
/** A date-time: handlers return a Date or an ISO string, and responses are written with JSON.stringify. */
export const time = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const timeOrNull = Type.Unsafe<Date | string | null>({ type: ['string', 'null'], format: 'date-time' });

/** One of these strings (`enum`). */
export function oneOf<const V extends readonly string[]>(values: V, options: { description?: string } = {}) {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });
}

/** An object whose properties are all required (unless `Type.Optional`), and nothing else. */
export function obj<P extends TProperties>(properties: P, options: { description?: string } = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** A row of any table (each served table also has its own typed path in the OpenAPI document). */
export const anyRow = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  additionalProperties: true,
  description: 'a row; the typed path of each table gives its columns',
});

/** What every page of rows says about itself: the table, the snapshot read, and where the page is. */
function pageFields(table: string | undefined) {
  return {
    table: table ? Type.Literal(table) : text,
    snapshot: Type.Integer({ description: 'the snapshot every row was read from' }),
    total: Type.Integer({ description: 'rows matching the filters, all pages' }),
    limit: integer,
    offset: integer,
  };
}

/** A page of rows as the table API returns it, with `next_cursor` for the next page. */
export function pageOf<R extends TSchema>(rows: R, table?: string) {
  return obj({
    ...pageFields(table),
    next_cursor: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'pass as ?cursor= for the next page; null on the last' }),
    rows: Type.Array(rows),
  });
}

/** A page of rows of a declared list endpoint (paged by limit and offset only). */
export function listPageOf<R extends TSchema>(rows: R, table?: string) {
  return obj({ ...pageFields(table), rows: Type.Array(rows) });
}

/** One row by its key. */
export function rowOf<R extends TSchema>(row: R, table?: string) {
  return obj({ table: table ? Type.Literal(table) : text, snapshot: integer, row });
}
