import type { FastifyInstance } from 'fastify';
import { type TProperties, Type } from 'typebox';
import type { EndpointSpec } from '../../config/types.js';
import { TributaryError } from '../../errors.js';
import { parseTableName } from '../../lake/table-name.js';
import { storeRefreshTimes } from '../../store/postgres-sync.js';
import { NotFound, type ServeContext } from '../context.js';
import { endpointUrl, operationName } from '../openapi.js';
import {
  anyRow,
  integer,
  intOrNull,
  listPageOf,
  numberOrNull,
  obj,
  oneOf,
  rowOf,
  text,
  textOrNull,
  timeOrNull,
  type TypedApp,
  typed,
} from '../schema-parts.js';
import { aggregateSql, BadRequest, listSql, pageWithTotal, parseSort, whereClause, type Filter } from '../table-query.js';

/** Endpoints declared in `serve.endpoints` (e.g. seed 002's /api/v1/clients, /kpis/…), built on the generic layer. */
export async function endpointRoutes(parent: FastifyInstance, ctx: ServeContext): Promise<void> {
  const app = typed(parent);
  // The pipeline's status is always available, for the default dashboard and for monitoring.
  const endpoints: Record<string, EndpointSpec> = { 'pipeline-status': { kind: 'pipeline', report: 'status' }, ...ctx.settings.endpoints };
  const storeTimes = storeTimesOf(ctx);
  for (const [path, spec] of Object.entries(endpoints)) {
    if (spec.kind === 'list') listEndpoint(app, ctx, path, spec);
    else if (spec.kind === 'aggregate') aggregateEndpoint(app, ctx, path, spec);
    else if (spec.kind === 'document') documentEndpoint(app, ctx, path, spec);
    else if (spec.kind === 'values') valuesEndpoint(app, ctx, path, spec);
    else pipelineEndpoint(app, ctx, path, spec, storeTimes);
  }
}

const page = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
};

function listEndpoint(app: TypedApp, ctx: ServeContext, path: string, spec: Extract<EndpointSpec, { kind: 'list' }>): void {
  const filters = Object.entries(spec.filters ?? {}).map(([param, f]) => ({ param, ...(typeof f === 'string' ? { column: f, op: 'eq' as const } : f) }));
  const [layer, name] = spec.table.split('.') as [string, string];
  const filterParams: TProperties = Object.fromEntries(
    filters.map((f) => [
      f.param,
      Type.Optional(Type.String({ maxLength: 2000, description: `${f.column} ${f.op}${f.op === 'in' ? ' (comma-separated)' : ''}` })),
    ]),
  );
  app.get(
    endpointUrl(ctx, path),
    {
      schema: {
        tags: ['endpoints'],
        operationId: operationName('list', `/${path}`),
        summary: spec.description ?? `Rows of ${spec.table}`,
        // Typed from the table's columns in the OpenAPI document once the table has data.
        response: { 200: listPageOf(anyRow, spec.table) },
        querystring: Type.Object({ ...page, ...filterParams }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const table = ctx.table(layer, name);
      return ctx.cache.get(`${table.view}|${request.url}`, async () => {
        const query: Record<string, unknown> = request.query;
        const chosen: Filter[] = filters
          .filter((f) => query[f.param] !== undefined)
          .map((f) => ({ column: f.column, op: f.op, value: String(query[f.param]), parameter: f.param }));
        // Defaults of the schema, filled in by the validator.
        const { limit = 100, offset = 0 } = request.query;
        // The generic table API's query, with the endpoint's filters and order.
        const { sql, countSql, params } = listSql(table, { filters: chosen, sort: parseSort(table, spec.sort), fields: undefined, limit, offset });
        const { rows, total } = await pageWithTotal(await ctx.reader.rows(sql, params), async () => Number((await ctx.reader.rows(countSql, params))[0]!.n));
        return { table: table.name, snapshot: table.snapshotId, total, limit, offset, rows };
      });
    },
  );
  if (!spec.key) return;
  const key = spec.key;
  app.get(
    `${endpointUrl(ctx, path)}/:id`,
    {
      schema: {
        tags: ['endpoints'],
        operationId: operationName('get', `/${path}/{id}`),
        summary: `One row of ${spec.table} by ${key}`,
        params: Type.Object({ id: Type.String({ maxLength: 500 }) }),
        response: { 200: rowOf(anyRow, spec.table) },
      },
    },
    async (request) => {
      const table = ctx.table(layer, name);
      const params: unknown[] = [];
      const where = whereClause(table, [{ column: key, op: 'eq', value: request.params.id, parameter: 'id' }], params);
      const [row] = await ctx.reader.rows(`SELECT * FROM ${table.view} ${where} LIMIT 1`, params);
      if (!row) throw new NotFound(`${spec.table} has no row with ${key} = ${request.params.id}`);
      return { table: table.name, snapshot: table.snapshotId, row };
    },
  );
}

function aggregateEndpoint(app: TypedApp, ctx: ServeContext, path: string, spec: Extract<EndpointSpec, { kind: 'aggregate' }>): void {
  const [layer, name] = spec.table.split('.') as [string, string];
  const period = spec.period;
  const periodParam: TProperties = period ? { [period.param]: oneOf(Object.keys(period.values)) } : {};
  app.get(
    endpointUrl(ctx, path),
    {
      schema: {
        tags: ['endpoints'],
        operationId: operationName('get', `/${path}`),
        summary: spec.description ?? `Aggregates of ${spec.table}`,
        response: { 200: obj({ table: Type.Literal(spec.table), snapshot: integer, rows: Type.Array(anyRow) }) },
        querystring: Type.Object(periodParam, { additionalProperties: false }),
      },
    },
    async (request) => {
      const table = ctx.table(layer, name);
      return ctx.cache.get(`${table.view}|${request.url}`, async () => {
        let unit: 'day' | 'week' | 'month' | 'quarter' | 'year' | undefined;
        if (period) {
          unit = period.values[String(request.query[period.param])];
          if (!unit) throw new BadRequest(period.param, `expected one of ${Object.keys(period.values).join(', ')}`);
        }
        // The generic aggregation's query; the period column is named after the endpoint's parameter.
        const { sql, params } = aggregateSql(table, {
          measures: Object.entries(spec.measures).map(([alias, expression]) => ({ expression, alias })),
          ...(period && unit ? { period: { unit, column: period.column, alias: period.param } } : {}),
        });
        const rows = await ctx.reader.rows(sql, params);
        return { table: table.name, snapshot: table.snapshotId, rows };
      });
    },
  );
}

/**
 * The store's sync metadata, read at most every 5 s per server (one PostgreSQL connection per request would let
 * clients exhaust the server's connections); no state is shared between server instances.
 */
/** One row's JSON column as the response (`document`). */
function documentEndpoint(app: TypedApp, ctx: ServeContext, path: string, spec: Extract<EndpointSpec, { kind: 'document' }>): void {
  const [layer, name] = spec.table.split('.') as [string, string];
  const params = Object.entries(spec.params ?? {});
  const body = spec.schema ? Type.Unsafe<unknown>(spec.schema) : Type.Unknown({ description: `the ${spec.column} column of ${spec.table}` });
  app.get(
    endpointUrl(ctx, path),
    {
      schema: {
        tags: ['endpoints'],
        operationId: operationName('get', `/${path}`),
        summary: spec.description ?? `${spec.column} of a row of ${spec.table}`,
        response: { 200: body },
        querystring: Type.Object(
          Object.fromEntries(params.map(([param, column]) => [param, Type.Optional(Type.String({ maxLength: 500, description: `${column} equals` }))])),
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const table = ctx.table(layer, name);
      return ctx.cache.get(`${table.view}|${request.url}`, async () => {
        const query = request.query as Record<string, string | undefined>;
        const chosen: Filter[] = params
          .filter(([param]) => query[param] !== undefined)
          .map(([param, column]) => ({ column, op: 'eq', value: String(query[param]), parameter: param }));
        const values: unknown[] = [];
        const where = whereClause(table, chosen, values);
        const order = spec.latest ? `ORDER BY "${spec.latest.replace(/"/g, '""')}" DESC NULLS LAST` : '';
        const [row] = await ctx.reader.rows(`SELECT "${spec.column.replace(/"/g, '""')}" AS doc FROM ${table.view} ${where} ${order} LIMIT 1`, values);
        if (!row) {
          throw new NotFound(`${spec.table} has no row${chosen.length ? ` with ${chosen.map((c) => `${c.column} = ${c.value}`).join(' and ')}` : ''}`);
        }
        const doc = row.doc;
        return typeof doc === 'string' && table.columns.find((c) => c.name === spec.column)?.type === 'JSON' ? JSON.parse(doc) : doc;
      });
    },
  );
}

/** The distinct values of a column (`values`). */
function valuesEndpoint(app: TypedApp, ctx: ServeContext, path: string, spec: Extract<EndpointSpec, { kind: 'values' }>): void {
  const [layer, name] = spec.table.split('.') as [string, string];
  const field = spec.field ?? spec.column;
  app.get(
    endpointUrl(ctx, path),
    {
      schema: {
        tags: ['endpoints'],
        operationId: operationName('get', `/${path}`),
        summary: spec.description ?? `Distinct ${spec.column} of ${spec.table}`,
        response: { 200: obj({ [field]: Type.Array(Type.Unknown()) }) },
      },
    },
    async () => {
      const table = ctx.table(layer, name);
      return ctx.cache.get(`${table.view}|values|${path}`, async () => {
        const column = `"${spec.column.replace(/"/g, '""')}"`;
        const rows = await ctx.reader.rows(
          `SELECT DISTINCT ${column} AS v FROM ${table.view} WHERE ${column} IS NOT NULL ORDER BY 1 ${spec.order === 'desc' ? 'DESC' : 'ASC'}`,
          [],
        );
        return { [field]: rows.map((r) => r.v) };
      });
    },
  );
}

function storeTimesOf(ctx: ServeContext): () => ReturnType<typeof storeRefreshTimes> {
  let memo: { at: number; value: ReturnType<typeof storeRefreshTimes> } | undefined;
  return () => {
    if (!memo || Date.now() - memo.at > 5000)
      memo = { at: Date.now(), value: storeRefreshTimes(ctx.lake.config.store!, ctx.lake.config.projectDir, ctx.lake.config.lakePath) };
    return memo.value;
  };
}

function pipelineEndpoint(
  app: TypedApp,
  ctx: ServeContext,
  path: string,
  spec: Extract<EndpointSpec, { kind: 'pipeline' }>,
  storeTimes: () => ReturnType<typeof storeRefreshTimes>,
): void {
  app.get(
    endpointUrl(ctx, path),
    {
      schema: {
        tags: ['pipeline'],
        operationId: operationName('get', `/${path}`),
        summary: spec.description ?? `Pipeline ${spec.report}`,
        response: { 200: spec.report === 'refresh-times' ? refreshTimesSchema : statusSchema },
      },
    },
    async () => {
      const tables = await ctx.lake.tables();
      if (spec.report === 'refresh-times') {
        const now = Date.now();
        const store = ctx.lake.config.store ? await storeTimes() : {};
        return {
          tables: tables
            .filter((t) => ctx.live.isExposed(t.name))
            .map((t) => ({
              table: t.name,
              snapshot: t.currentSnapshot,
              updated_at: t.updatedAt?.toISOString() ?? null,
              age_seconds: t.updatedAt ? Math.round((now - t.updatedAt.getTime()) / 1000) : null,
              served_snapshot: ctx.live.get(t.name)?.snapshotId ?? null,
              // Seed 002's refresh time: from the gold commit to the operational store's commit.
              store_snapshot: store[t.name]?.snapshot ?? null,
              store_synced_at: store[t.name]?.syncedAt ?? null,
              store_refresh_seconds: store[t.name]?.refreshSeconds ?? null,
            })),
        };
      }
      const runs = await ctx.lake.catalog.runs.list({ limit: 10 });
      const lastModels = runs.find((r) => r.kind === 'models');
      const checks = lastModels ? await ctx.lake.catalog.runLog.checkResults(lastModels.runId) : [];
      return {
        status: lastModels?.status ?? 'never_run',
        tables: tables.map((t) => ({
          table: t.name,
          snapshot: t.currentSnapshot,
          rows: t.rowCount,
          files: t.fileCount,
          updated_at: t.updatedAt?.toISOString() ?? null,
        })),
        runs: runs.map((r) => ({
          run: r.runId,
          kind: r.kind,
          status: r.status,
          started_at: r.startedAt.toISOString(),
          finished_at: r.finishedAt?.toISOString() ?? null,
          error: r.error ?? null,
        })),
        failing_checks: checks
          .filter((c) => c.status !== 'pass')
          .map((c) => ({ table: c.table, check: c.check, severity: c.severity, status: c.status, failing_rows: c.failingRows ?? null })),
        quarantined_files: (await ctx.lake.catalog.quarantine.list()).length,
      };
    },
  );
}

const refreshTimesSchema = obj({
  tables: Type.Array(
    obj({
      table: text,
      snapshot: integer,
      updated_at: timeOrNull,
      age_seconds: intOrNull,
      served_snapshot: intOrNull,
      store_snapshot: intOrNull,
      store_synced_at: textOrNull,
      store_refresh_seconds: numberOrNull,
    }),
  ),
});
const statusSchema = obj({
  status: Type.String({ description: "the last model run's status, or 'never_run'" }),
  tables: Type.Array(obj({ table: text, snapshot: integer, rows: integer, files: integer, updated_at: timeOrNull })),
  runs: Type.Array(obj({ run: text, kind: text, status: text, started_at: text, finished_at: textOrNull, error: textOrNull })),
  failing_checks: Type.Array(obj({ table: text, check: text, severity: oneOf(['error', 'warn']), status: text, failing_rows: intOrNull })),
  quarantined_files: integer,
});

/** Endpoints must read exposed tables: a mistake here fails at startup, not on every request. */
export function checkEndpointTables(ctx: ServeContext): void {
  for (const [path, spec] of Object.entries(ctx.settings.endpoints ?? {})) {
    if (spec.kind === 'pipeline') continue;
    parseTableName(spec.table, `serve.endpoints.${path}.table`);
    if (!ctx.live.isExposed(spec.table)) {
      throw new TributaryError('CONFIG_INVALID', `serve.endpoints.${path}.table: ${spec.table} is not exposed`, {
        hint: `add it (or its layer) to serve.expose`,
      });
    }
    // Columns named by the endpoint must exist (checked when the table has data; it may be built later).
    const table = ctx.live.get(spec.table);
    if (!table) continue;
    const named =
      spec.kind === 'list'
        ? [
            ...Object.entries(spec.filters ?? {}).map(([param, f]) => [`filters.${param}`, typeof f === 'string' ? f : f.column] as const),
            ...(spec.key ? [['key', spec.key] as const] : []),
            ...(spec.sort ?? '')
              .split(',')
              .filter(Boolean)
              .map((s) => ['sort', s.replace(/^-/, '')] as const),
          ]
        : spec.kind === 'aggregate'
          ? spec.period
            ? [['period.column', spec.period.column] as const]
            : []
          : spec.kind === 'document'
            ? [
                ['column', spec.column] as const,
                ...Object.entries(spec.params ?? {}).map(([param, column]) => [`params.${param}`, column] as const),
                ...(spec.latest ? [['latest', spec.latest] as const] : []),
              ]
            : [['column', spec.column] as const];
    for (const [setting, column] of named) {
      if (!table.columns.some((c) => c.name === column)) {
        throw new TributaryError('CONFIG_INVALID', `serve.endpoints.${path}.${setting}: ${spec.table} has no column "${column}"`);
      }
    }
  }
}
