import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ColumnInfo } from '../catalog/types.js';
import type { ContractColumn } from '../registry/lake-columns.js';
import type { EndpointSpec } from '../config/types.js';
import { quoteIdent } from '../engine/sql.js';
import { matchingOpen, splitTopLevel, structField } from '../engine/type-text.js';
import type { ServeContext } from './context.js';
import type { LiveTable } from './live-tables.js';
import { listPageOf, pageOf, rowOf } from './schema-parts.js';
import { RESERVED } from './table-query.js';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = { [keyword: string]: unknown };

// What the API writes for each DuckDB type is what `Reader` produces: DuckDB's JSON conversion, with integers and
// decimals of top-level columns as numbers where a double holds them exactly (as strings otherwise).
const SMALL_INTEGER = /^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|UINTEGER|INT[1248]?|SHORT|LONG)$/;
const BIG_INTEGER = /^(BIGINT|UBIGINT|HUGEINT|UHUGEINT|INT8|INT128|UINT128|VARINT|BIGNUM)$/;
const NON_FINITE = { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] } as const;

/**
 * The JSON Schema of the values of a DuckDB type as the API writes them. `top` is for a table's own columns
 * (exact integers and decimals are numbers there; nested in lists and structs they stay strings, as DuckDB writes them).
 */
export function valueSchema(type: string, top = true): JsonSchema {
  const t = type.trim();
  const upper = t.toUpperCase();
  if (t.endsWith(']')) {
    const open = matchingOpen(t);
    return { type: 'array', items: nullable(valueSchema(t.slice(0, open), false)) };
  }
  const args = /^([A-Z_ ]+)\((.*)\)$/s.exec(t);
  const head = (args?.[1] ?? upper).trim().toUpperCase();
  if (head === 'STRUCT' && args) {
    const fields = splitTopLevel(args[2]!).map(structField);
    return {
      type: 'object',
      properties: Object.fromEntries(fields.map((f) => [f.name, nullable(valueSchema(f.type, false))])),
      required: fields.map((f) => f.name),
      additionalProperties: false,
    };
  }
  if (head === 'MAP' && args) {
    const [key, value] = splitTopLevel(args[2]!);
    return {
      type: 'array',
      description: 'map entries',
      items: {
        type: 'object',
        properties: { key: valueSchema(key!, false), value: nullable(valueSchema(value!, false)) },
        required: ['key', 'value'],
        additionalProperties: false,
      },
    };
  }
  if (head === 'UNION') return { type: 'object', properties: { tag: { type: 'string' }, value: {} }, required: ['tag', 'value'] };
  if (head === 'ENUM' && args)
    return {
      type: 'string',
      enum: splitTopLevel(args[2]!).map((v) =>
        v
          .trim()
          .replace(/^'(.*)'$/s, '$1')
          .replace(/''/g, "'"),
      ),
    };
  if (head === 'DECIMAL' || head === 'NUMERIC') {
    const precision = Number(args?.[2]?.split(',')[0] ?? 18);
    // Up to 15 significant digits, a decimal survives the trip through a double: always a number.
    if (top && precision <= 15) return { type: 'number' };
    return top
      ? { type: ['number', 'string'], description: `${type}: a number, or its exact text when a double cannot hold it` }
      : { type: 'string', description: `${type} as exact text` };
  }
  if (SMALL_INTEGER.test(head)) return { type: 'integer' };
  if (BIG_INTEGER.test(head)) {
    return top
      ? { type: ['integer', 'string'], description: `${type}: a number, or its exact text beyond ±2^53` }
      : { type: 'string', pattern: '^-?\\d+$', description: `${type} as text` };
  }
  if (/^(DOUBLE|FLOAT|REAL|FLOAT[48])$/.test(head)) return { anyOf: [{ type: 'number' }, NON_FINITE] };
  if (head === 'BOOLEAN' || head === 'BOOL') return { type: 'boolean' };
  if (head === 'DATE') return { type: 'string', format: 'date' };
  if (head.startsWith('TIMESTAMP'))
    return {
      type: 'string',
      description: `${type} as DuckDB writes it, e.g. 2024-01-31 13:45:00${head.includes('TIME ZONE') || head === 'TIMESTAMPTZ' ? '+00' : ''}`,
    };
  if (head.startsWith('TIME')) return { type: 'string', description: `${type}, e.g. 13:45:00` };
  if (head === 'INTERVAL') {
    return {
      type: 'object',
      properties: { months: { type: 'integer' }, days: { type: 'integer' }, micros: { type: 'string', pattern: '^-?\\d+$' } },
      required: ['months', 'days', 'micros'],
      additionalProperties: false,
    };
  }
  if (head === 'UUID') return { type: 'string', format: 'uuid' };
  if (head === 'BLOB' || head === 'BYTEA') return { type: 'string', description: 'bytes, printable ones as they are and others as \\xNN escapes' };
  if (/^(VARCHAR|TEXT|STRING|CHAR|BPCHAR|JSON|BIT|BITSTRING)$/.test(head)) return { type: 'string' };
  return { description: `${type}` };
}

/** `schema`, or null. */
export function nullable(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === 'string')
    return { ...schema, type: [schema.type, 'null'], ...(schema.enum ? { enum: [...(schema.enum as unknown[]), null] } : {}) };
  if (Array.isArray(schema.type)) return { ...schema, type: [...(schema.type as string[]), 'null'] };
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...(schema.anyOf as JsonSchema[]), { type: 'null' }] };
  return schema; // no type: anything, null included
}

/**
 * A row of a table: every column present, typed, null unless a blocking `not_null` check or the table's contract
 * guarantees a value; with a contract, its descriptions and its enums' symbols.
 */
export function rowSchema(
  table: string,
  columns: readonly ColumnInfo[],
  notNull: ReadonlySet<string> = new Set(),
  contract: readonly ContractColumn[] = [],
): JsonSchema {
  const declared = new Map(contract.map((c) => [c.name, c]));
  const column = (c: ColumnInfo): JsonSchema => {
    const d = declared.get(c.name);
    let schema = valueSchema(c.type);
    if (d?.enum && schema.type === 'string') schema = { ...schema, enum: d.enum };
    if (!notNull.has(c.name)) schema = nullable(schema);
    return { ...schema, ...(d?.description ? { description: d.description } : {}), 'x-duckdb-type': c.type };
  };
  return {
    type: 'object',
    description: `A row of ${table}. With ?fields=, rows hold only the chosen columns.`,
    properties: Object.fromEntries(columns.map((c) => [c.name, column(c)])),
    required: columns.map((c) => c.name),
    additionalProperties: false,
  };
}

/** The schema of a query parameter filtering on a column of this type; undefined when the column cannot be filtered. */
export function filterSchema(type: string): JsonSchema | undefined {
  const head = type.trim().toUpperCase().replace(/\(.*$/s, '');
  if (type.trim().endsWith(']') || /^(STRUCT|MAP|UNION|INTERVAL|BLOB|BYTEA|BIT|JSON)$/.test(head)) return undefined;
  if (SMALL_INTEGER.test(head)) return { type: 'integer' };
  if (BIG_INTEGER.test(head) || head === 'DECIMAL' || head === 'NUMERIC')
    return { type: ['number', 'string'], description: `${type} (exact text for values a double cannot hold)` };
  if (/^(DOUBLE|FLOAT|REAL|FLOAT[48])$/.test(head)) return { type: 'number' };
  if (head === 'BOOLEAN' || head === 'BOOL') return { type: 'boolean' };
  if (head === 'DATE') return { type: 'string', format: 'date' };
  return { type: 'string' };
}

/** The query parameters that filter a table: `col` (equals), `col.in` (comma-separated), and ranges on ordered types. */
export function filterParameters(columns: readonly ColumnInfo[]): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  for (const column of columns) {
    const schema = filterSchema(column.type);
    if (!schema) continue;
    if (!RESERVED.has(column.name)) parameters.push({ name: column.name, in: 'query', required: false, description: `${column.name} equals`, schema });
    parameters.push({
      name: `${column.name}.in`,
      in: 'query',
      required: false,
      description: `${column.name} is one of these comma-separated values`,
      schema: { type: 'string', maxLength: 2000 },
    });
    if (schema.type === 'boolean') continue;
    for (const [op, words] of [
      ['gt', 'greater than'],
      ['gte', 'at least'],
      ['lt', 'less than'],
      ['lte', 'at most'],
    ] as const) {
      parameters.push({ name: `${column.name}.${op}`, in: 'query', required: false, description: `${column.name} ${words}`, schema });
    }
  }
  return parameters;
}

export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Every error response: a stable code, a message for people, and for 400 the parameter at fault.',
  properties: {
    error: {
      type: 'string',
      enum: ['bad_request', 'unauthorized', 'not_found', 'conflict', 'too_many_requests', 'payload_too_large', 'unavailable', 'internal'],
    },
    message: { type: 'string' },
    parameter: { type: 'string', description: 'the query or path parameter at fault (400 only)' },
  },
  required: ['error', 'message'],
  additionalProperties: false,
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const ERRORS: Record<string, string> = {
  '400': 'A parameter is invalid: `parameter` names it',
  '401': 'No valid bearer token',
  '404': 'No such table (or it has no data yet), row or run',
  '429': 'Too many requests from this client: retry after the `retry-after` header',
  '500': 'Internal error; the server log has the details',
};

/** A page of rows as the table API (with a cursor) and list endpoints (without) return it: the routes' own schema. */
export function pageSchema(rows: JsonSchema, options: { cursor?: boolean; table?: string } = {}): JsonSchema {
  const row = Type.Unsafe<Record<string, unknown>>(rows);
  return { ...(options.cursor === false ? listPageOf(row, options.table) : pageOf(row, options.table)) };
}

export function rowResponseSchema(row: JsonSchema, table?: string): JsonSchema {
  return { ...rowOf(Type.Unsafe<Record<string, unknown>>(row), table) };
}

type Operation = {
  operationId?: string;
  parameters?: JsonSchema[];
  responses?: Record<string, JsonSchema>;
  tags?: string[];
  security?: unknown[];
  summary?: string;
  description?: string;
};
type Document = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, JsonSchema>; securitySchemes?: unknown } };

/**
 * The API's OpenAPI document: the routes' own schemas (from @fastify/swagger), plus what only the data knows — a
 * typed path per served table (its rows' schema from the table's columns, every filter parameter), the row types of
 * declared endpoints — and on every operation an operationId and its error responses. Built again when a served
 * table moves to a new snapshot, so a new column or a new table appears without a restart.
 */
export class OpenApiDocument {
  private built: { key: string; doc: Promise<Document> } | undefined;
  private latest: Document | undefined;

  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: ServeContext,
    private readonly options: { notNull: (table: string) => ReadonlySet<string>; contract?: (table: string) => readonly ContractColumn[] | undefined },
  ) {}

  /** The document for the snapshots served now. */
  get(): Promise<Document> {
    const key = this.ctx.live
      .list()
      .map((t) => t.view)
      .join('|');
    if (this.built?.key !== key) {
      const doc = this.build();
      this.built = { key, doc };
      void doc.then(
        (d) => (this.latest = d),
        () => (this.built = undefined),
      );
    }
    return this.built.doc;
  }

  /** The last document built (for the synchronous hook of the docs page; call `get()` first). */
  current(): Document {
    return this.latest ?? (this.app.swagger() as unknown as Document);
  }

  private async build(): Promise<Document> {
    const doc = structuredClone(this.app.swagger()) as unknown as Document;
    const schemas = ((doc.components ??= {}).schemas ??= {});
    schemas.Error = ERROR_SCHEMA;
    const { ctx } = this;
    const served = ctx.live.list().filter((t) => ctx.live.isExposed(t.name));
    for (const table of served)
      schemas[table.name] = rowSchema(table.name, table.columns, this.options.notNull(table.name), this.options.contract?.(table.name) ?? []);
    const ref = (table: LiveTable) => ({ $ref: `#/components/schemas/${table.name}` });

    // A concrete path per served table: OpenAPI matches concrete paths before templated ones, and so do we.
    for (const table of served) {
      const [layer, name] = table.name.split('.') as [string, string];
      const id = `${layer}_${name}`;
      const columns = table.columns.map((c) => c.name).join(', ');
      doc.paths[`/api/v1/tables/${layer}/${name}`] = {
        get: {
          tags: ['tables'],
          operationId: `list_${id}`,
          summary: `Rows of ${table.name}: paged, filtered, sorted`,
          parameters: [
            { name: 'limit', in: 'query', required: false, description: 'rows per page', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 } },
            { name: 'cursor', in: 'query', required: false, description: 'next_cursor of the previous page', schema: { type: 'string', maxLength: 200 } },
            {
              name: 'sort',
              in: 'query',
              required: false,
              description: `columns, \`-\` for descending (${columns})`,
              schema: { type: 'string', maxLength: 500 },
            },
            {
              name: 'fields',
              in: 'query',
              required: false,
              description: `columns to return, comma-separated (${columns})`,
              schema: { type: 'string', maxLength: 2000 },
            },
            ...filterParameters(table.columns),
          ],
          responses: { '200': json('A page of rows', pageSchema(ref(table), { table: table.name })) },
        },
      };
      const settings = ctx.served(table.name);
      const key = [settings.key ?? []].flat();
      if (key.length) {
        doc.paths[`/api/v1/tables/${layer}/${name}/{key}`] = {
          get: {
            tags: ['tables'],
            operationId: `get_${id}`,
            summary: `One row of ${table.name} by ${key.join(', ')}${key.length > 1 ? ' (values joined by `,`)' : ''}`,
            parameters: [
              {
                name: 'key',
                in: 'path',
                required: true,
                description: key.join(','),
                schema:
                  key.length === 1
                    ? (filterSchema(table.columns.find((c) => c.name === key[0])?.type ?? 'VARCHAR') ?? { type: 'string' })
                    : { type: 'string', maxLength: 500 },
              },
            ],
            responses: { '200': json('The row', rowResponseSchema(ref(table), table.name)) },
          },
        };
      }
      if (settings.measures?.length) {
        const measureTypes = await this.describe(table, settings.measures);
        const dims = (settings.dimensions ?? []).map((d) => table.columns.find((c) => c.name === d)).filter((c) => c !== undefined);
        doc.paths[`/api/v1/aggregations/${layer}/${name}`] = {
          get: {
            tags: ['aggregations'],
            operationId: `aggregate_${id}`,
            summary: `Declared measures of ${table.name}, by declared dimensions and/or a period`,
            parameters: [
              {
                name: 'measure',
                in: 'query',
                required: true,
                style: 'form',
                explode: true,
                description: 'a declared measure; repeat for several',
                schema: {
                  anyOf: [
                    { type: 'string', enum: settings.measures },
                    { type: 'array', items: { type: 'string', enum: settings.measures }, minItems: 1, maxItems: 10 },
                  ],
                },
              },
              ...(dims.length
                ? [
                    {
                      name: 'by',
                      in: 'query',
                      required: false,
                      description: `declared dimensions, comma-separated (${dims.map((d) => d.name).join(', ')})`,
                      schema: { type: 'string', maxLength: 500 },
                    },
                  ]
                : []),
              ...(settings.timeColumn
                ? [
                    {
                      name: 'period',
                      in: 'query',
                      required: false,
                      description: `buckets of ${settings.timeColumn}`,
                      schema: { type: 'string', enum: ['day', 'week', 'month', 'quarter', 'year'] },
                    },
                  ]
                : []),
              ...filterParameters(table.columns),
            ],
            responses: {
              '200': json(
                'One row per group, holding the requested dimensions and measures',
                pageSchema(
                  {
                    type: 'object',
                    properties: {
                      ...(settings.timeColumn ? { period: { type: 'string', format: 'date', description: 'first day of the period' } } : {}),
                      ...Object.fromEntries(dims.map((d) => [d.name, nullable(valueSchema(d.type))])),
                      ...Object.fromEntries(settings.measures.map((m) => [m, nullable(valueSchema(measureTypes.get(m) ?? 'UNKNOWN'))])),
                    },
                    additionalProperties: false,
                  },
                  { table: table.name },
                ),
              ),
            },
          },
        };
      }
    }

    // Declared endpoints: their rows are the table's rows, or the declared measures.
    for (const [path, spec] of Object.entries(ctx.settings.endpoints ?? {})) {
      if (spec.kind === 'pipeline') continue;
      const table = ctx.live.get(spec.table);
      if (!table) continue;
      const list = doc.paths[endpointUrl(ctx, path)]?.get;
      if (spec.kind === 'list') {
        if (list) {
          list.responses = { ...list.responses, '200': json('A page of rows', pageSchema(ref(table), { table: table.name, cursor: false })) };
          for (const parameter of list.parameters ?? []) {
            const filter = spec.filters?.[String(parameter.name)];
            const column = table.columns.find((c) => c.name === (typeof filter === 'string' ? filter : filter?.column));
            if (filter && column && (typeof filter === 'string' || filter.op !== 'in')) parameter.schema = filterSchema(column.type) ?? parameter.schema;
          }
        }
        const one = doc.paths[`${endpointUrl(ctx, path)}/{id}`]?.get;
        if (one) one.responses = { ...one.responses, '200': json('The row', rowResponseSchema(ref(table), table.name)) };
      } else if (list && spec.kind === 'aggregate') {
        list.responses = { ...list.responses, '200': json('The measures', await this.aggregateSchema(table, spec)) };
      }
    }

    // The typed table paths are served by the generic routes: they need what those need.
    const security = doc.paths['/api/v1/tables/{layer}/{table}']?.get?.security;
    if (security?.length) {
      for (const table of served) {
        const [layer, name] = table.name.split('.') as [string, string];
        for (const p of [`/api/v1/tables/${layer}/${name}`, `/api/v1/tables/${layer}/${name}/{key}`, `/api/v1/aggregations/${layer}/${name}`]) {
          const op = doc.paths[p]?.get;
          if (op) op.security = security;
        }
      }
    }

    // Every operation: an operationId, and the errors it can answer with.
    const used = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        let id = operation.operationId ?? operationName(method, path);
        for (let n = 2; used.has(id); n++) id = `${operation.operationId ?? operationName(method, path)}_${n}`;
        used.add(id);
        operation.operationId = id;
        const responses = (operation.responses ??= {});
        const codes = [
          ...(operation.parameters?.length ? ['400'] : []),
          // Routes behind the bearer tokens carry `security` (server.ts, bearerAuth); the typed table paths follow theirs.
          ...(operation.security?.length ? ['401'] : []),
          ...(path.includes('{') || ['tables', 'aggregations', 'endpoints'].some((t) => operation.tags?.includes(t)) ? ['404'] : []),
          '429',
          '500',
        ];
        for (const code of codes) responses[code] ??= json(ERRORS[code]!, ERROR_REF);
      }
    }
    return doc;
  }

  /** The types of aggregate expressions over a table, as DuckDB infers them. */
  private async describe(table: LiveTable, expressions: readonly string[]): Promise<Map<string, string>> {
    const types = new Map<string, string>();
    for (const expression of expressions) {
      try {
        const [row] = await this.ctx.reader.rows(`DESCRIBE SELECT ${expression} AS ${quoteIdent(expression)} FROM ${table.view}`);
        if (row) types.set(expression, String(row.column_type));
      } catch {
        // An expression DuckDB cannot bind fails its requests with a 400 already; its type stays open here.
      }
    }
    return types;
  }

  private async aggregateSchema(table: LiveTable, spec: Extract<EndpointSpec, { kind: 'aggregate' }>): Promise<JsonSchema> {
    const types = await this.describe(table, Object.values(spec.measures));
    const properties: Record<string, JsonSchema> = {
      ...(spec.period ? { [spec.period.param]: { type: 'string', format: 'date', description: `first day of the period of ${spec.period.column}` } } : {}),
      ...Object.fromEntries(Object.entries(spec.measures).map(([alias, expression]) => [alias, nullable(valueSchema(types.get(expression) ?? 'UNKNOWN'))])),
    };
    return {
      type: 'object',
      properties: {
        table: { type: 'string', const: table.name },
        snapshot: { type: 'integer' },
        rows: { type: 'array', items: { type: 'object', properties, required: Object.keys(properties), additionalProperties: false } },
      },
      required: ['table', 'snapshot', 'rows'],
      additionalProperties: false,
    };
  }
}

function json(description: string, schema: JsonSchema): JsonSchema {
  return { description, content: { 'application/json': { schema } } };
}

/**
 * Where a declared endpoint is served: under `serve.endpointsPath` (default /api/v1), as seed 000's FastAPI served
 * /api/analytics/…; the built-in pipeline status stays at /api/v1/pipeline-status for the dashboard.
 */
export function endpointUrl(ctx: ServeContext, path: string): string {
  const builtIn = path === 'pipeline-status' && !ctx.settings.endpoints?.['pipeline-status'];
  return `${builtIn ? '/api/v1' : (ctx.settings.endpointsPath ?? '/api/v1')}/${path}`;
}

/** `get /api/v1/orchestration/runs/{runId}` → `get_orchestration_runs_by_runId`. */
export function operationName(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, '/')
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith('{') ? `by_${part.slice(1, -1)}` : part));
  return [method.toLowerCase(), ...words].join('_').replace(/[^A-Za-z0-9_]+/g, '_');
}
