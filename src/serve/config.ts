import { z } from 'zod';
import { identifierSchema, tableNameSchema } from '../lake/table-name.js';

/** The `serve` setting: the REST API, its declared endpoints and the dashboard. Types are inferred from the schemas. */

const columns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const periodSchema = z.enum(['day', 'week', 'month', 'quarter', 'year']);

/** How a table is served: its key (for GET by key), and what aggregations may use. */
export const servedTableSchema = z.strictObject({
  /** Column(s) identifying a row: `GET /api/v1/tables/{layer}/{table}/{key}` (composite keys joined by `,`). */
  key: columns.optional(),
  /** Aggregate expressions allowed in `?measure=`, exactly as written here, e.g. 'sum(line_total)', 'count(*)'. */
  measures: z.array(z.string().min(1)).optional(),
  /** Columns allowed in `?by=`. */
  dimensions: z.array(z.string().min(1)).optional(),
  /** Date or timestamp column that `?period=day|week|month|quarter|year` buckets. */
  timeColumn: z.string().min(1).optional(),
});
export type ServedTable = z.infer<typeof servedTableSchema>;

/**
 * A named endpoint under /api/v1, declared on top of the generic table API:
 * - list: rows of a table, with fixed query parameters mapped to filters, and GET …/{key} when `key` is set;
 * - aggregate: measures over a table, optionally per period chosen by a parameter;
 * - pipeline: the pipeline's status (tables, last runs, failing checks) or refresh times;
 * - document: one row's JSON (or STRUCT) column as the whole response, the row picked by query parameters — for
 *   responses of a fixed shape an application already reads (seed 000's `/summary?date=`), with their JSON Schema;
 * - values: the distinct values of a column, as `{ <field>: [...] }` (seed 000's `/dates`).
 */
export const endpointSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('list'),
    table: tableNameSchema,
    key: z.string().min(1).optional(),
    /** Query parameter → column and comparison (default eq). */
    filters: z
      .record(identifierSchema, z.union([z.string().min(1), z.strictObject({ column: z.string().min(1), op: z.enum(['eq', 'gte', 'lte', 'in']) })]))
      .optional(),
    /** Default order, e.g. '-total_ca' for descending. */
    sort: z.string().optional(),
    description: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal('aggregate'),
    table: tableNameSchema,
    /** Output name → aggregate expression (trusted: it comes from the config). */
    measures: z.record(identifierSchema, z.string().min(1)),
    /** Bucket rows by a period chosen with a query parameter, mapping its values to day/week/month/quarter/year. */
    period: z.strictObject({ column: z.string().min(1), param: identifierSchema, values: z.record(z.string(), periodSchema) }).optional(),
    description: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('pipeline'), report: z.enum(['status', 'refresh-times']), description: z.string().optional() }),
  z.strictObject({
    kind: z.literal('document'),
    table: tableNameSchema,
    /** The column whose value is the response body (JSON or STRUCT). */
    column: identifierSchema,
    /** Query parameter → the column it must equal (`{ date: 'date' }`); a parameter left out does not filter. */
    params: z.record(identifierSchema, identifierSchema).optional(),
    /** Among the rows left, the one with the largest value of this column is answered (default: the first). */
    latest: identifierSchema.optional(),
    /**
     * JSON Schema of the body: the OpenAPI document's response schema, which Fastify also serializes the body with
     * (properties an object schema does not declare are left out, unless it allows `additionalProperties`).
     */
    schema: z.record(z.string(), z.unknown()).optional(),
    description: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal('values'),
    table: tableNameSchema,
    column: identifierSchema,
    /** The response's field holding the list (default: the column's name). */
    field: identifierSchema.optional(),
    /** 'asc' (default) or 'desc'. */
    order: z.enum(['asc', 'desc']).optional(),
    description: z.string().optional(),
  }),
]);
export type EndpointSpec = z.infer<typeof endpointSchema>;

export const dashboardChartSchema = z.strictObject({
  title: z.string().min(1),
  /**
   * A path under /api/v1 returning rows (a declared endpoint or a generic table/aggregation URL), or a full path
   * starting with /api/ (an endpoint served under `endpointsPath`).
   */
  source: z.string().startsWith('/'),
  type: z.enum(['line', 'bar', 'doughnut', 'table', 'kpi']),
  /** Column for the x axis / labels. */
  x: z.string().optional(),
  /** Column(s) plotted. */
  y: columns.optional(),
  /** For tables: a query parameter users can filter with (e.g. `pays`, or `country` on a generic table URL). */
  filter: z.string().optional(),
  /** Which array of the response holds the rows (default `rows`), e.g. `runs` for /pipeline/status. */
  field: z.string().optional(),
  /** For line and bar charts: a granularity selector (the source is called with `{param}=<choice>`). */
  granularity: z.strictObject({ param: z.string().min(1), choices: z.array(z.string().min(1)).min(1) }).optional(),
});
export type DashboardChart = z.infer<typeof dashboardChartSchema>;

export const dashboardPageSchema = z.strictObject({ id: z.string().regex(/^[a-z0-9-]+$/), title: z.string().min(1), charts: z.array(dashboardChartSchema) });
export type DashboardPage = z.infer<typeof dashboardPageSchema>;

export const serveSettingsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  /** Default 127.0.0.1: only this machine. */
  host: z.string().min(1).optional(),
  /** Tables served by the generic API: names or patterns like 'gold.*' (default ['gold.*']). */
  expose: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.([A-Za-z_][A-Za-z0-9_]*|\*)$/, 'expected layer.table or layer.*')).optional(),
  tables: z.record(tableNameSchema, servedTableSchema).optional(),
  endpoints: z.record(z.string().regex(/^[a-z0-9][a-z0-9/_-]*$/, 'endpoint paths are lower-case segments, e.g. kpis/ca-par-jour'), endpointSchema).optional(),
  /**
   * Where the declared endpoints are served (default '/api/v1'): '/api' serves `analytics/summary` at
   * /api/analytics/summary, the paths an application already calls (seed 000). The generic table API, the
   * orchestration API and the dashboard's stay under /api/v1.
   */
  endpointsPath: z
    .string()
    .regex(/^(\/[a-z0-9_-]+)+$/, "a path of lower-case segments without a trailing slash, e.g. '/api'")
    .optional(),
  /** Bearer tokens; when any is set, every route but /health needs one. Use ${ENV} to keep them out of the file. */
  auth: z.strictObject({ tokens: z.array(z.string()) }).optional(),
  cors: z.strictObject({ origins: z.array(z.string().min(1)) }).optional(),
  rateLimit: z.strictObject({ max: z.number().int().positive(), windowSeconds: z.number().positive().optional() }).optional(),
  /** How often new snapshots are looked for, in milliseconds (default 1000). */
  refreshMs: z.number().int().min(50).optional(),
  /** Served snapshots up to this many rows are held in memory (default 1,000,000); larger ones are read from Parquet. */
  memoryRows: z.number().int().min(0).optional(),
  /** The dashboard: its pages, and the language of its own words (`locale`: 'en', the default, or 'fr'). */
  dashboard: z
    .strictObject({ title: z.string().optional(), locale: z.enum(['en', 'fr']).optional(), pages: z.array(dashboardPageSchema).optional() })
    .optional(),
});
export type ServeSettings = z.infer<typeof serveSettingsSchema>;
