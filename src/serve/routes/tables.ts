import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../context.js';
import { pageSchema, rowResponseSchema } from '../openapi.js';
import {
  aggregateSql,
  BadRequest,
  decodeCursor,
  encodeCursor,
  listSql,
  pageWithTotal,
  parseFields,
  parseFilters,
  parseSort,
  requireColumn,
  whereClause,
} from '../table-query.js';

const tableParams = {
  type: 'object',
  required: ['layer', 'table'],
  properties: { layer: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, table: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
} as const;

const listQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'rows per page' },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
    cursor: { type: 'string', maxLength: 200, description: 'next_cursor of the previous page' },
    sort: { type: 'string', maxLength: 500, description: 'columns, `-` for descending: `-revenue,country`' },
    fields: { type: 'string', maxLength: 2000, description: 'columns to return: `country,revenue`' },
  },
  additionalProperties: { type: 'string', maxLength: 2000 },
  description: 'Any other parameter filters on a column: `col=v`, `col.in=a,b`, `col.gt|gte|lt|lte=v`.',
} as const;

// Any table's rows; each served table also has its own typed path in the OpenAPI document (see openapi.ts).
const anyRow = { type: 'object', additionalProperties: true, description: 'a row; the typed path of each table gives its columns' };
const rowsResponse = pageSchema(anyRow);
const tablesResponse = {
  type: 'object',
  properties: {
    tables: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          snapshot: { type: 'integer' },
          rows: { type: 'integer' },
          updated_at: { type: ['string', 'null'], format: 'date-time' },
          key: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }] },
          columns: {
            type: 'array',
            items: {
              type: 'object',
              properties: { name: { type: 'string' }, type: { type: 'string', description: 'DuckDB type' } },
              required: ['name', 'type'],
              additionalProperties: false,
            },
          },
          measures: { type: 'array', items: { type: 'string' } },
          dimensions: { type: 'array', items: { type: 'string' } },
        },
        required: ['name', 'snapshot', 'rows', 'updated_at', 'key', 'columns', 'measures', 'dimensions'],
        additionalProperties: false,
      },
    },
  },
  required: ['tables'],
  additionalProperties: false,
};

/** The generic API: every exposed table, listed, paged, filtered, sorted, by key, and aggregated. */
export async function tableRoutes(app: FastifyInstance, ctx: ServeContext): Promise<void> {
  app.get(
    '/api/v1/tables',
    {
      schema: {
        tags: ['tables'],
        operationId: 'list_tables',
        summary: 'Exposed tables with their schema and freshness',
        response: { 200: tablesResponse },
      },
    },
    async () => ({
      tables: ctx.live.list().map((t) => ({
        name: t.name,
        snapshot: t.snapshotId,
        rows: t.rowCount,
        updated_at: t.updatedAt?.toISOString() ?? null,
        key: ctx.served(t.name).key ?? null,
        columns: t.columns,
        measures: ctx.served(t.name).measures ?? [],
        dimensions: ctx.served(t.name).dimensions ?? [],
      })),
    }),
  );

  app.get<{ Params: { layer: string; table: string }; Querystring: Record<string, string | number | undefined> }>(
    '/api/v1/tables/:layer/:table',
    {
      schema: {
        tags: ['tables'],
        operationId: 'list_table_rows',
        summary: 'Rows of any served table: paged, filtered, sorted',
        params: tableParams,
        querystring: listQuery,
        response: { 200: rowsResponse },
      },
    },
    async (request) => {
      const table = ctx.table(request.params.layer, request.params.table);
      return ctx.cache.get(`${table.view}|${request.url}`, async () => {
        const q = request.query;
        let offset = Number(q.offset ?? 0);
        if (q.cursor !== undefined) {
          const cursor = decodeCursor(String(q.cursor));
          if (cursor.snapshotId !== table.snapshotId)
            throw new BadRequest('cursor', `the table moved from snapshot ${cursor.snapshotId} to ${table.snapshotId}; start again without a cursor`);
          offset = cursor.offset;
        }
        const limit = Number(q.limit ?? 100);
        const req = {
          filters: parseFilters(table, q),
          sort: parseSort(table, q.sort as string | undefined),
          fields: parseFields(table, q.fields as string | undefined),
          limit,
          offset,
        };
        const { sql, countSql, params } = listSql(table, req);
        const { rows, total } = await pageWithTotal(await ctx.reader.rows(sql, params), async () => Number((await ctx.reader.rows(countSql, params))[0]!.n));
        return {
          table: table.name,
          snapshot: table.snapshotId,
          total,
          limit,
          offset,
          next_cursor: offset + rows.length < total ? encodeCursor(offset + rows.length, table.snapshotId) : null,
          rows,
        };
      });
    },
  );

  app.get<{ Params: { layer: string; table: string; key: string } }>(
    '/api/v1/tables/:layer/:table/:key',
    {
      schema: {
        tags: ['tables'],
        operationId: 'get_table_row',
        summary: 'One row by the key declared in serve.tables (composite keys: values joined by `,`)',
        params: { ...tableParams, required: ['layer', 'table', 'key'], properties: { ...tableParams.properties, key: { type: 'string', maxLength: 500 } } },
        response: { 200: rowResponseSchema(anyRow) },
      },
    },
    async (request, reply) => {
      const table = ctx.table(request.params.layer, request.params.table);
      const key = [ctx.served(table.name).key ?? []].flat();
      if (key.length === 0) throw new BadRequest('key', `${table.name} declares no key (serve.tables['${table.name}'].key)`);
      const values = key.length === 1 ? [request.params.key] : request.params.key.split(',');
      if (values.length !== key.length) throw new BadRequest('key', `${table.name} is keyed by ${key.join(', ')}: give ${key.length} values joined by ","`);
      const params: unknown[] = [];
      const where = whereClause(
        table,
        key.map((column, i) => ({ column: requireColumn(table, column, 'key'), op: 'eq' as const, value: values[i]!, parameter: 'key' })),
        params,
      );
      const [row] = await ctx.reader.rows(`SELECT * FROM ${table.view} ${where} LIMIT 1`, params);
      if (!row) return reply.code(404).send({ error: 'not_found', message: `${table.name} has no row with ${key.join(', ')} = ${request.params.key}` });
      return { table: table.name, snapshot: table.snapshotId, row };
    },
  );

  app.get<{
    Params: { layer: string; table: string };
    Querystring: { measure: string | string[]; by?: string; period?: string } & Record<string, string | string[] | undefined>;
  }>(
    '/api/v1/aggregations/:layer/:table',
    {
      schema: {
        tags: ['aggregations'],
        operationId: 'aggregate_table',
        summary: 'Aggregate declared measures by declared dimensions and/or a period of the time column',
        params: tableParams,
        querystring: {
          type: 'object',
          required: ['measure'],
          properties: {
            measure: {
              anyOf: [
                { type: 'string', maxLength: 200 },
                { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 10 },
              ],
              description: 'a declared measure, e.g. sum(line_total); repeatable',
            },
            by: { type: 'string', maxLength: 500, description: 'declared dimensions, comma-separated' },
            period: { type: 'string', enum: ['day', 'week', 'month', 'quarter', 'year'] },
          },
          additionalProperties: { type: 'string', maxLength: 2000 },
          description: 'Other parameters filter rows before aggregating, as in the table API.',
        },
        response: { 200: rowsResponse },
      },
    },
    async (request) => {
      const table = ctx.table(request.params.layer, request.params.table);
      return ctx.cache.get(`${table.view}|${request.url}`, async () => {
        const served = ctx.served(table.name);
        const { measure, by, period, ...rest } = request.query;
        const measures = [measure].flat().map((m) => {
          if (!(served.measures ?? []).includes(m))
            throw new BadRequest('measure', `"${m}" is not a declared measure of ${table.name} (declared: ${(served.measures ?? []).join(', ') || 'none'})`);
          return m;
        });
        const dims = (by ?? '')
          .split(',')
          .filter(Boolean)
          .map((d) => {
            if (!(served.dimensions ?? []).includes(d))
              throw new BadRequest('by', `"${d}" is not a declared dimension of ${table.name} (declared: ${(served.dimensions ?? []).join(', ') || 'none'})`);
            return d;
          });
        if (period && !served.timeColumn) throw new BadRequest('period', `${table.name} declares no timeColumn`);
        const { sql, params } = aggregateSql(table, {
          measures: measures.map((m) => ({ expression: m, alias: m })),
          dimensions: dims,
          ...(period && served.timeColumn ? { period: { unit: period as 'day', column: served.timeColumn, alias: 'period' } } : {}),
          filters: parseFilters(table, rest),
        });
        const rows = await ctx.reader.rows(sql, params);
        return { table: table.name, snapshot: table.snapshotId, total: rows.length, limit: rows.length, offset: 0, next_cursor: null, rows };
      });
    },
  );
}
