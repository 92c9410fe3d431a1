import { z } from 'zod';
import { schemaContractSchema } from '../../lake/config.js';
import { tableNameSchema } from '../../lake/table-name.js';
import { durationSchema } from '../../util/duration.js';

/**
 * The config of a `kind: 'http'` source: one REST API (a base URL, its auth and its limits) and the resources read
 * from it, each into a lake table. The words are dlt's: a resource, a paginator, a record selector, an incremental
 * cursor, a write disposition.
 */

const path = z.string().min(1);
const scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * Pagination: how the next page is asked for, and when the last one was read. Every style stops on an empty page
 * (the record selector found an empty list) and after `maxPages`.
 */
export const paginateSchema = z.discriminatedUnion('type', [
  /** One request (the default). */
  z.strictObject({ type: z.literal('none') }),
  /**
   * `?offset=0&limit=100`, then `offset=100`… The offset grows by the records a page held (a server that caps
   * `limit` below the one asked for still loses nothing); stops at `total` when the body gives it.
   */
  z.strictObject({
    type: z.literal('offset'),
    limit: z.number().int().positive(),
    offsetParam: z.string().min(1).optional(),
    limitParam: z.string().min(1).optional(),
    /** Where the body gives the number of records in all (e.g. `meta.total`). */
    total: path.optional(),
    /** First offset (default 0). */
    start: z.number().int().nonnegative().optional(),
  }),
  /** `?page=1`, then `page=2`…; stops past `total` pages when the body gives it. */
  z.strictObject({
    type: z.literal('page'),
    param: z.string().min(1).optional(),
    /** First page number (default 1). */
    start: z.number().int().nonnegative().optional(),
    /** Where the body gives the number of pages (e.g. `meta.total_pages`). */
    total: path.optional(),
    /** Page size sent as `sizeParam` (e.g. `per_page: 100`). */
    size: z.number().int().positive().optional(),
    sizeParam: z.string().min(1).optional(),
  }),
  /** A cursor in the body (`meta.next_cursor`) sent back as a query parameter; stops when it is missing or null. */
  z.strictObject({ type: z.literal('cursor'), cursor: path, param: z.string().min(1) }),
  /** The next page's URL in the body (`next`, `links.next`), absolute or relative; stops when it is missing or null. */
  z.strictObject({ type: z.literal('next'), next: path }),
  /** RFC 8288 `Link: <…>; rel="next"` response header (GitHub's style); stops when there is no next link. */
  z.strictObject({ type: z.literal('link') }),
]);
export type PaginateConfig = z.infer<typeof paginateSchema>;

export const incrementalSchema = z.strictObject({
  /** Where each record holds the cursor (`updated_at`, `meta.id`): the largest value read is the next run's start. */
  cursor: path.optional(),
  /** Or where the response body gives the next start (`meta.until`, `next_since`). */
  fromResponse: path.optional(),
  /** The query parameter the start is sent as (`since`, `updated_after`); `{$cursor}` in params or path works too. */
  param: z.string().min(1).optional(),
  /** The start of the first run (default: the parameter is not sent). */
  initial: scalar.optional(),
});
export type IncrementalConfig = z.infer<typeof incrementalSchema>;

/**
 * A lookup: the resource is a reference table (countries, currencies, products) kept for the keys the lake uses. The
 * keys a query returns that the table does not hold yet (or held longer than `ttl`) are asked for, `batch` of them
 * per request (`{keys}` in the path or params, joined by `separator`), and merged into the table on `key`.
 */
export const lookupSchema = z.strictObject({
  /** A SQL query over the lake whose first column holds the keys wanted (`SELECT DISTINCT pays FROM bronze.factures`). */
  keys: z.string().min(1),
  /** The field of the API's records holding the key (`cca2`): the table's key. */
  key: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a top-level field of the records'),
  /** Keys per request (default 100). */
  batch: z.number().int().positive().optional(),
  /** How keys are joined in `{keys}` (default ','). */
  separator: z.string().min(1).optional(),
  /** A key looked up longer ago than this is asked again (default: never). */
  ttl: durationSchema.optional(),
});
export type LookupConfig = z.infer<typeof lookupSchema>;

/** What one resource (an endpoint) is: its request, its pages, its records and where they land. */
const resourceFields = {
  /** Path under `baseUrl` (`/assets`); `{field}` is a field of the parent's record (`/assets/{id}/history`). */
  path: z.string().optional(),
  method: z.enum(['GET', 'POST']).optional(),
  /** Query parameters; values may hold `{field}` (a parent's field) and `{$cursor}` (the incremental start). */
  params: z.record(z.string(), scalar).optional(),
  /** Headers of this resource's requests (added to the source's). */
  headers: z.record(z.string(), z.string()).optional(),
  /** JSON body of a POST; string values may hold placeholders as `params` do. */
  body: z.unknown().optional(),
  /**
   * Where the records are in a response: `data`, `results[*]`, `$.data.items`, `$` (the body is the list). Default:
   * the body if it is a list, else its `data`, `results`, `items` or `records` list, else the body as one record.
   * A path that finds nothing quarantines the response.
   */
  select: path.optional(),
  /** Fields of each response body added to its records, as `column: path` (`{ served_ms: 'timestamp' }`). */
  responseFields: z.record(z.string(), path).optional(),
  paginate: paginateSchema.optional(),
  /** Pages read per run at most (default 10,000): a guard against an API that never says it is done. */
  maxPages: z.number().int().positive().optional(),
  incremental: incrementalSchema.optional(),
  /**
   * `append` (default): each run's records are added. `replace`: each run's records are the table. `merge`: the
   * records replace the table's rows with the same `primaryKey`.
   */
  disposition: z.enum(['append', 'replace', 'merge']).optional(),
  primaryKey: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /**
   * Column types of the records (DuckDB types: `VARCHAR`, `DOUBLE`, `DECIMAL(38,18)`, `TIMESTAMP`, `JSON`…): those
   * named are read as declared (a value that does not fit fails the run, naming it); others are inferred.
   */
  columns: z.record(z.string(), z.string().min(1)).optional(),
  lookup: lookupSchema.optional(),
  /**
   * What a poll's records may change in the table's schema (sources/schema-contract.ts): a field whose type differs
   * from the table's is refused by default (\`types: 'freeze'\`), new fields added (\`columns: 'evolve'\`). A
   * resource without one takes its source's.
   */
  schemaContract: schemaContractSchema.optional(),
};

export const httpResourceSchema = z.strictObject({
  ...resourceFields,
  /** Target lake table of the resource's records. */
  into: tableNameSchema,
  /**
   * Read once per record of a parent: another resource of this source (by name; the source's own resource is named
   * after the source), whose records fill the path's placeholders, or a SQL query over the lake (`{ query: … }`)
   * whose rows do (how gaps are backfilled from a history endpoint).
   */
  parent: z.union([z.string().min(1), z.strictObject({ query: z.string().min(1) })]).optional(),
  /** Fields of the parent's record added to each record, as `column: field` (`{ asset_id: 'id' }`). */
  include: z.record(z.string(), path).optional(),
});
export type HttpResourceConfig = z.infer<typeof httpResourceSchema>;

const secret = z.string().min(1);

/** Credentials, written as `${ENV}` in the config: never printed, masked (`***`) in errors, logs and the raw table. */
export const httpAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bearer'), token: secret }),
  /** An API key in a header (`X-API-Key`) or a query parameter (`api_key`). */
  z.strictObject({ type: z.literal('apiKey'), value: secret, header: z.string().min(1).optional(), query: z.string().min(1).optional() }),
  z.strictObject({ type: z.literal('basic'), username: z.string(), password: z.string() }),
]);
export type HttpAuthConfig = z.infer<typeof httpAuthSchema>;

export const httpSourceSchema = z
  .strictObject({
    kind: z.literal('http'),
    /** The API's root, `https://api.example.com/v2`; each resource's path is under it. */
    baseUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'expected an http(s):// URL')
      .refine((u) => !/^https?:\/\/[^/]*@/.test(u), 'put credentials in auth (from ${ENV}), not in the URL'),
    ...resourceFields,
    /** Target lake table of the source's own resource. */
    into: tableNameSchema,
    /** Read once per row of this SQL query over the lake, whose columns fill the placeholders (a backfill of gaps). */
    parent: z.strictObject({ query: z.string().min(1) }).optional(),
    /** Columns of the parent's row added to each record, as `column: field`. */
    include: z.record(z.string(), path).optional(),
    /**
     * Every response, as received (resource, URL, status, headers, body, fetched time), lands here, so that history
     * can be replayed and parsed again (default `<into>_raw`).
     */
    raw: tableNameSchema.optional(),
    /** More resources of the same API, by name: siblings, or children of a parent (`parent`). */
    resources: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'resource names use letters, digits and _'), httpResourceSchema).optional(),
    auth: httpAuthSchema.optional(),
    /** A request taking longer than this (to the end of its body) fails and is retried (default '30s'). */
    timeout: durationSchema.optional(),
    /**
     * Retries of a request that failed on the network, timed out or got 408, 429 or 5xx (default 5), after exponential
     * backoff with full jitter from `delay` (default '500ms') up to `maxDelay` (default '30s'); a `Retry-After` is
     * honoured up to `maxDelay`.
     */
    retry: z
      .strictObject({ attempts: z.number().int().min(0).max(100).optional(), delay: durationSchema.optional(), maxDelay: durationSchema.optional() })
      .optional(),
    /** Requests started per second at most, across the source's resources (default: unlimited). */
    rateLimit: z.number().positive().optional(),
    /** Requests in flight at once (a child resource's calls per parent record; default 4). */
    concurrency: z.number().int().positive().optional(),
    /** Failed attempts in a row after which the run stops (the API is down; default 10). */
    circuitBreaker: z.number().int().positive().optional(),
    /** Largest response body read, in bytes (default 64 MiB): a bigger one fails the resource. */
    maxResponseBytes: z.number().int().min(1024).optional(),
  })
  .superRefine((s, ctx) => {
    const all: [string, z.infer<typeof httpResourceSchema> | undefined][] = [['', undefined], ...Object.entries(s.resources ?? {})];
    for (const [name, r] of all) {
      const at = name ? ['resources', name] : [];
      const spec = r ?? s;
      if (spec.disposition === 'merge' && !spec.primaryKey && !spec.lookup)
        ctx.addIssue({ code: 'custom', path: [...at, 'primaryKey'], message: "disposition 'merge' needs the primaryKey of the records" });
      if (spec.primaryKey !== undefined && spec.disposition !== 'merge' && !spec.lookup)
        ctx.addIssue({ code: 'custom', path: [...at, 'primaryKey'], message: "primaryKey is for disposition 'merge'" });
      if (spec.incremental) {
        if ((spec.incremental.cursor === undefined) === (spec.incremental.fromResponse === undefined))
          ctx.addIssue({ code: 'custom', path: [...at, 'incremental'], message: 'give either cursor (in the records) or fromResponse (in the body)' });
        if (spec.parent !== undefined)
          ctx.addIssue({ code: 'custom', path: [...at, 'incremental'], message: 'a child resource is read for its parents: it has no cursor of its own' });
      }
      if (r && r.parent === name) ctx.addIssue({ code: 'custom', path: [...at, 'parent'], message: 'a resource cannot be its own parent' });
      if (spec.lookup) {
        if (spec.parent !== undefined) ctx.addIssue({ code: 'custom', path: [...at, 'lookup'], message: 'a lookup asks for its keys: it has no parent' });
        if (spec.incremental) ctx.addIssue({ code: 'custom', path: [...at, 'lookup'], message: 'a lookup asks for its keys: it has no cursor' });
        if (spec.disposition !== undefined && spec.disposition !== 'merge')
          ctx.addIssue({ code: 'custom', path: [...at, 'disposition'], message: 'a lookup merges what it reads on its key' });
        if (![spec.path ?? '', ...Object.values(spec.params ?? {}).map(String)].some((t) => t.includes('{keys}')))
          ctx.addIssue({ code: 'custom', path: [...at, 'lookup'], message: 'put {keys} in the path or a parameter: where the keys asked for go' });
      }
      if (spec.include && spec.parent === undefined)
        ctx.addIssue({ code: 'custom', path: [...at, 'include'], message: 'include takes fields of a parent: set parent' });
    }
  });
export type HttpSourceConfig = z.infer<typeof httpSourceSchema>;
