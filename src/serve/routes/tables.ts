import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NotFound, type ServeContext } from '../context.js';
import { anyRow, integer, obj, oneOf, pageOf, rowOf, strings, text, timeOrNull, typed } from '../schema-parts.js';
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

const identifier = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' });
const tableParams = Type.Object({ layer: identifier, table: identifier });
const rowParams = Type.Object({ layer: identifier, table: identifier, key: Type.String({ maxLength: 500 }) });

/** Any other parameter filters on a column (`col=v`, `col.in=a,b`, `col.gt=v`): values are strings. */
const filterParameters = Type.String({ maxLength: 2000 });
const listQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'rows per page' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
    sort: Type.Optional(Type.String({ maxLength: 500, description: 'columns, `-` for descending: `-revenue,country`' })),
    fields: Type.Optional(Type.String({ maxLength: 2000, description: 'columns to return: `country,revenue`' })),
  },
  {
    additionalProperties: filterParameters,
    description: 'Any other parameter filters on a column: `col=v`, `col.in=a,b`, `col.gt|gte|lt|lte=v`.',
  },
);
const aggregateQuery = Type.Object(
  {
    measure: Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 10 })], {
      description: 'a declared measure, e.g. sum(line_total); repeatable',
    }),
    by: Type.Optional(Type.String({ maxLength: 500, description: 'declared dimensions, comma-separated' })),
    period: Type.Optional(oneOf(['day', 'week', 'month', 'quarter', 'year'])),
  },
  { additionalProperties: filterParameters, description: 'Other parameters filter rows before aggregating, as in the table API.' },
);

const rowsResponse = pageOf(anyRow);
const tablesResponse = obj({
  tables: Type.Array(
    obj({
      name: text,
      snapshot: integer,
      rows: integer,
      updated_at: timeOrNull,
      key: Type.Union([text, strings, Type.Null()]),
      columns: Type.Array(obj({ name: text, type: Type.String({ description: 'DuckDB type' }) })),
      measures: strings,
      dimensions: strings,
    }),
  ),
});

/** The filter parameters of a query: those it does not name itself (the validator checked they are strings). */
function filterParams(query: object, own: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => !own.includes(k) && typeof v === 'string')) as Record<string, string>;
}

/** The generic API: every exposed table, listed, paged, filtered, sorted, by key, and aggregated. */
export async function tableRoutes(parent: FastifyInstance, ctx: ServeContext): Promise<void> {
  const app = typed(parent);
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

  app.get(
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
        let offset = q.offset ?? 0;
        if (q.cursor !== undefined) {
          const cursor = decodeCursor(q.cursor);
          if (cursor.snapshotId !== table.snapshotId)
            throw new BadRequest('cursor', `the table moved from snapshot ${cursor.snapshotId} to ${table.snapshotId}; start again without a cursor`);
          offset = cursor.offset;
        }
        const limit = q.limit ?? 100;
        const req = {
          filters: parseFilters(table, filterParams(q, ['limit', 'offset', 'cursor', 'sort', 'fields'])),
          sort: parseSort(table, q.sort),
          fields: parseFields(table, q.fields),
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

  app.get(
    '/api/v1/tables/:layer/:table/:key',
    {
      schema: {
        tags: ['tables'],
        operationId: 'get_table_row',
        summary: 'One row by the key declared in serve.tables (composite keys: values joined by `,`)',
        params: rowParams,
        response: { 200: rowOf(anyRow) },
      },
    },
    async (request) => {
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
      if (!row) throw new NotFound(`${table.name} has no row with ${key.join(', ')} = ${request.params.key}`);
      return { table: table.name, snapshot: table.snapshotId, row };
    },
  );

  app.get(
    '/api/v1/aggregations/:layer/:table',
    {
      schema: {
        tags: ['aggregations'],
        operationId: 'aggregate_table',
        summary: 'Aggregate declared measures by declared dimensions and/or a period of the time column',
        params: tableParams,
        querystring: aggregateQuery,
        response: { 200: rowsResponse },
      },
    },
    async (request) => {
      const table = ctx.table(request.params.layer, request.params.table);
      return ctx.cache.get(`${table.view}|${request.url}`, async () => {
        const served = ctx.served(table.name);
        const { measure, by, period } = request.query;
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
          ...(period && served.timeColumn ? { period: { unit: period, column: served.timeColumn, alias: 'period' } } : {}),
          filters: parseFilters(table, filterParams(request.query, ['measure', 'by', 'period'])),
        });
        const rows = await ctx.reader.rows(sql, params);
        return { table: table.name, snapshot: table.snapshotId, total: rows.length, limit: rows.length, offset: 0, next_cursor: null, rows };
      });
    },
  );
}
