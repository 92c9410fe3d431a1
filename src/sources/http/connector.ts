import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { quoteIdent as duckIdent, quoteLiteral } from '../../engine/sql.js';
import { TributaryError, errorMessage } from '../../errors.js';
import type { CommitPart, TableChange } from '../../catalog/types.js';
import { parseTableName } from '../../lake/table-name.js';
import { toMillis } from '../../util/duration.js';
import { newId } from '../../util/ids.js';
import { lineageColumns } from '../batches.js';
import { contractBatch, policy, resolveSchemaContract, writeRejects } from '../schema-contract.js';
import { emptyReport, type SourceConnector, type SourceContext, type SourceReport } from '../connector.js';
import { HttpClient, HttpStatusError, snippet, type HttpResponse } from './client.js';
import { type HttpResourceConfig, type HttpSourceConfig, httpSourceSchema } from './config.js';
import { firstPage, nextPage, type PageRequest } from './paginate.js';
import { parseJson, plain, stringifyJson } from '../../util/lossless-json.js';
import { fill, fillDeep, lookup, placeholders, selectRecords, valueAt } from './select.js';

/**
 * `kind: 'http'`: a REST API read into the lake. Each run (a poll) reads every resource's pages, lands every
 * response as received in the raw table and the records of each resource in its table, and commits them all in one
 * transaction with the source's new state (the incremental cursors): a crash or a failure before the commit leaves
 * nothing, a run after it starts from the committed cursors. Responses and records go through files on disk that
 * DuckDB reads: memory holds a page at a time.
 */

/** One resource as the run reads it: the source's own, or one of `resources`. */
interface Resource extends Omit<HttpResourceConfig, 'into'> {
  name: string;
  into: string;
}

interface ResourceState {
  /** The incremental start of the next run. */
  cursor?: unknown;
  /** Hashes of the records whose cursor is the last value: an API that starts at it inclusively repeats them. */
  boundary?: string[];
}

/** A source's committed state: polls so far and each resource's incremental position. */
interface HttpState {
  polls: number;
  resources: Record<string, ResourceState>;
}

/** A response that cannot be read as records: set aside in quarantine, the resource fails for this run. */
class Malformed extends Error {
  constructor(
    readonly code: 'invalid_json' | 'no_records',
    message: string,
    readonly response: HttpResponse,
  ) {
    super(message);
  }
}

/** What a run read of one resource, before its commit. */
interface ResourceRun {
  resource: Resource;
  recordsFile: string;
  rawFile: string;
  records: number;
  pages: number;
  /** Longest line written to each file (bytes): DuckDB's JSON reader sizes its buffers from the limit it is given. */
  longest: number;
  longestRaw: number;
  state?: ResourceState;
  /** Why it was not committed. */
  failed?: string;
}

const ORD = '__tributary_ord';

function resourcesOf(ctx: SourceContext, config: HttpSourceConfig): Resource[] {
  const where = `sources.${ctx.name}`;
  const {
    kind: _k,
    baseUrl: _b,
    resources,
    raw: _r,
    auth: _a,
    timeout: _t,
    retry: _re,
    rateLimit: _rl,
    concurrency: _c,
    circuitBreaker: _cb,
    maxResponseBytes: _m,
    ...own
  } = config;
  // A resource's schema contract is its own, else its source's.
  const all: Resource[] = [
    { ...own, name: ctx.name },
    ...Object.entries(resources ?? {}).map(([name, r]) => ({
      ...r,
      name,
      ...((r.schemaContract ?? own.schemaContract) ? { schemaContract: r.schemaContract ?? own.schemaContract } : {}),
    })),
  ];
  const names = all.map((r) => r.name);
  for (const r of all) {
    if (typeof r.parent === 'string' && !names.includes(r.parent)) {
      throw new TributaryError('CONFIG_INVALID', `${where}.resources.${r.name}.parent: no resource "${r.parent}" (resources: ${names.join(', ')})`);
    }
  }
  // Parents before their children; a cycle is named.
  const ordered: Resource[] = [];
  const visit = (r: Resource, trail: string[]) => {
    if (ordered.includes(r)) return;
    if (trail.includes(r.name)) throw new TributaryError('CONFIG_INVALID', `${where}.resources: parents form a cycle (${[...trail, r.name].join(' → ')})`);
    if (typeof r.parent === 'string') visit(all.find((p) => p.name === r.parent)!, [...trail, r.name]);
    ordered.push(r);
  };
  for (const r of all) visit(r, []);
  const tables = new Map<string, string>();
  for (const r of ordered) {
    const other = tables.get(r.into);
    if (other) throw new TributaryError('CONFIG_INVALID', `${where}: resources ${other} and ${r.name} both land in ${r.into}`);
    tables.set(r.into, r.name);
  }
  return ordered;
}

/** A lookup key as text: `42.00` and `42` are one key. */
function normaliseKey(key: string): string {
  return /^-?\d+\.0+$/.test(key) ? key.replace(/\.0+$/, '') : key;
}

function rawTable(config: HttpSourceConfig): string {
  return config.raw ?? `${config.into}_raw`;
}

function clientOf(ctx: SourceContext, config: HttpSourceConfig): HttpClient {
  const where = `sources.${ctx.name}`;
  const secrets: string[] = [];
  const secretParams: string[] = [];
  const auth = config.auth;
  if (auth?.type === 'bearer') secrets.push(auth.token);
  if (auth?.type === 'apiKey') {
    secrets.push(auth.value);
    if (auth.query) secretParams.push(auth.query);
  }
  if (auth?.type === 'basic') secrets.push(auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64'));
  return new HttpClient({
    where,
    timeoutMs: toMillis(config.timeout ?? '30s', `${where}.timeout`),
    retries: config.retry?.attempts ?? 5,
    delayMs: toMillis(config.retry?.delay ?? '500ms', `${where}.retry.delay`),
    maxDelayMs: toMillis(config.retry?.maxDelay ?? '30s', `${where}.retry.maxDelay`),
    ...(config.rateLimit ? { rateLimit: config.rateLimit } : {}),
    concurrency: config.concurrency ?? 4,
    circuitBreaker: config.circuitBreaker ?? 10,
    maxResponseBytes: config.maxResponseBytes ?? 64 * 1024 * 1024,
    secrets,
    secretParams,
    authHeaders: ['authorization', ...(auth?.type === 'apiKey' && !auth.query ? [(auth.header ?? 'x-api-key').toLowerCase()] : [])],
  });
}

/** Auth as headers and query parameters. */
function authOf(config: HttpSourceConfig): { headers: Record<string, string>; query: Record<string, string> } {
  const auth = config.auth;
  if (!auth) return { headers: {}, query: {} };
  if (auth.type === 'bearer') return { headers: { authorization: `Bearer ${auth.token}` }, query: {} };
  if (auth.type === 'basic') return { headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }, query: {} };
  if (auth.query) return { headers: {}, query: { [auth.query]: auth.value } };
  return { headers: { [auth.header ?? 'x-api-key']: auth.value }, query: {} };
}

/** Orders cursor values: numbers as numbers, timestamps as instants, other text as text. */
export function compareCursor(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  if (/^-?\d+(\.\d+)?$/.test(sa) && /^-?\d+(\.\d+)?$/.test(sb)) return Number(sa) - Number(sb);
  if (/^\d{4}-\d{2}-\d{2}/.test(sa) && /^\d{4}-\d{2}-\d{2}/.test(sb)) {
    const ta = Date.parse(sa);
    const tb = Date.parse(sb);
    if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
    if (ta === tb) return 0;
  }
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function hashRecord(record: unknown): string {
  return createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 32);
}

async function write(stream: WriteStream, line: string): Promise<void> {
  if (!stream.write(line)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** One run of an HTTP source: the client, the scratch files, the report. */
class Poll {
  readonly where: string;
  readonly client: HttpClient;
  readonly auth: ReturnType<typeof authOf>;
  readonly dir: string;
  readonly report: SourceReport;
  /** Records of each parent resource this run read, for its children (the fields they use). */
  readonly parentRows = new Map<string, Record<string, unknown>[]>();
  /** The fields each parent's children need. */
  readonly neededFields = new Map<string, Set<string>>();
  /** The fields a parent's records have, for errors. */
  readonly parentFields = new Map<string, Set<string>>();

  constructor(
    readonly ctx: SourceContext,
    readonly config: HttpSourceConfig,
    readonly resources: Resource[],
    readonly state: HttpState,
  ) {
    this.where = `sources.${ctx.name}`;
    this.client = clientOf(ctx, config);
    this.auth = authOf(config);
    this.dir = path.join(ctx.lake.config.lakePath, '_tmp', `http-${ctx.name}-${newId('')}`);
    mkdirSync(this.dir, { recursive: true });
    this.report = emptyReport(ctx.name, parseTableName(config.into, `${this.where}.into`).name, 'resource');
    for (const r of resources) {
      if (typeof r.parent !== 'string') continue;
      const fields = this.neededFields.get(r.parent) ?? new Set<string>();
      for (const t of [r.path ?? '', ...Object.values(r.params ?? {}).map(String), JSON.stringify(r.body ?? '')]) {
        for (const p of placeholders(t)) if (!p.startsWith('$')) fields.add(p);
      }
      for (const f of Object.values(r.include ?? {})) fields.add(f);
      this.neededFields.set(r.parent, fields);
    }
  }

  /** Reads one resource's pages (for each parent record, when it has a parent) into its scratch files. */
  async read(resource: Resource): Promise<ResourceRun> {
    const run: ResourceRun = {
      resource,
      recordsFile: path.join(this.dir, `${resource.name}.records.ndjson`),
      rawFile: path.join(this.dir, `${resource.name}.raw.ndjson`),
      records: 0,
      pages: 0,
      longest: 0,
      longestRaw: 0,
    };
    const records = createWriteStream(run.recordsFile);
    const raw = createWriteStream(run.rawFile);
    try {
      const previous = this.state.resources[resource.name] ?? {};
      const incremental = resource.incremental;
      const start = previous.cursor ?? incremental?.initial;
      const tracker = incremental ? new CursorTracker(previous, start) : undefined;
      const keep = this.neededFields.get(resource.name);
      const parents = await this.parentsOf(resource);
      let ord = 0;
      let lastResponseCursor: unknown;
      const found = new Set<string>();
      const readOne = async (parent: Record<string, unknown>) => {
        const vars: Record<string, unknown> = { ...parent, ...(start !== undefined ? { $cursor: start } : {}) };
        for await (const page of this.pages(resource, vars, start)) {
          run.pages++;
          const rawLine = `${JSON.stringify(rawRow(resource.name, page.response, run.pages, (t) => this.client.mask(t)))}\n`;
          run.longestRaw = Math.max(run.longestRaw, Buffer.byteLength(rawLine));
          await write(raw, rawLine);
          if (incremental?.fromResponse) {
            const next = valueAt(page.body, incremental.fromResponse);
            if (next !== undefined && next !== null) lastResponseCursor = plain(next);
          }
          const lines: string[] = [];
          for (const item of page.records) {
            let record: Record<string, unknown> =
              item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : { value: item };
            if (tracker && incremental?.cursor && !tracker.admit(record, incremental.cursor)) continue;
            if (resource.lookup) {
              const value = record[resource.lookup.key];
              if (value !== undefined && value !== null) found.add(normaliseKey(String(plain(value))));
            }
            if (resource.include || resource.responseFields) {
              record = { ...record };
              for (const [column, field] of Object.entries(resource.include ?? {})) record[column] = lookup(parent, field) ?? null;
              for (const [column, field] of Object.entries(resource.responseFields ?? {})) record[column] = valueAt(page.body, field) ?? null;
            }
            if (keep) {
              const fields = this.parentFields.get(resource.name) ?? new Set<string>();
              for (const k of Object.keys(record)) fields.add(k);
              this.parentFields.set(resource.name, fields);
              const rows = this.parentRows.get(resource.name) ?? [];
              rows.push(Object.fromEntries([...keep].map((f) => [f, valueAt(record, f)])));
              this.parentRows.set(resource.name, rows);
            }
            // The ordinal appended to the record's JSON as it is written (no copy of the record).
            const text = stringifyJson(record);
            const line = text === '{}' ? `{"${ORD}":${ord++}}\n` : `${text.slice(0, -1)},"${ORD}":${ord++}}\n`;
            // A UTF-16 unit is at most 3 bytes of UTF-8: the byte length is only counted when it could be the longest.
            if (line.length * 3 > run.longest) run.longest = Math.max(run.longest, Buffer.byteLength(line));
            lines.push(line);
            run.records++;
          }
          if (lines.length) await write(records, lines.join(''));
        }
      };
      if (parents === undefined) await readOne({});
      else {
        // Children of several parents at once, within the client's concurrency; the first failure stops the rest.
        let next = 0;
        let failure: unknown;
        const workers = Array.from({ length: Math.min(this.client.options.concurrency, parents.length) }, async () => {
          while (failure === undefined && next < parents.length) {
            const parent = parents[next++]!;
            try {
              await readOne(parent);
            } catch (err) {
              failure ??= err;
            }
          }
        });
        await Promise.all(workers);
        if (failure !== undefined) throw failure;
      }
      const asked = this.asked.get(resource.name);
      if (asked && asked.size > 0) {
        const none = [...asked].filter((k) => !found.has(k));
        if (none.length)
          this.report.warnings.push(`${resource.name}: the API has no record for ${none.length} key(s) looked up: ${none.slice(0, 20).join(', ')}`);
      }
      if (incremental) {
        run.state = incremental.fromResponse
          ? { cursor: lastResponseCursor ?? start }
          : { ...(tracker!.max !== undefined ? { cursor: tracker!.max } : {}), boundary: tracker!.boundary() };
      }
      return run;
    } finally {
      await close(records);
      await close(raw);
    }
  }

  /** Keys each lookup resource asked for, to name those the API had no record for. */
  readonly asked = new Map<string, Set<string>>();

  /**
   * A lookup's requests: the keys its query returns that the table does not hold (or held longer than its ttl),
   * `batch` at a time, as `{keys}`.
   */
  private async lookupRequests(resource: Resource): Promise<Record<string, unknown>[]> {
    const lookup = resource.lookup!;
    const at = resource.name === this.ctx.name ? `${this.where}.lookup` : `${this.where}.resources.${resource.name}.lookup`;
    let wanted: string[];
    try {
      const result = await this.ctx.lake.query(`SELECT DISTINCT CAST(k AS VARCHAR) AS k FROM (${lookup.keys}) AS q(k) WHERE k IS NOT NULL ORDER BY 1`);
      // Keys compare as text; an integer written as a decimal (`42.00`, from a NUMERIC column) is that integer.
      wanted = [...new Set(result.rows.map((r) => normaliseKey(String(r.k))))];
    } catch (err) {
      if (err instanceof TributaryError && err.code === 'TABLE_NOT_FOUND') {
        this.report.warnings.push(`${at}.keys: ${err.message}: nothing looked up`);
        return [];
      }
      throw new TributaryError('CONFIG_INVALID', `${at}.keys: ${errorMessage(err)}`, { cause: err });
    }
    const table = parseTableName(resource.into).name;
    const held = new Map<string, number>();
    const current = (await this.ctx.lake.catalog.getTable(table)) ? await this.ctx.lake.catalog.resolveSnapshot(table) : undefined;
    // A table created empty on a first run may not have the key column yet: it holds nothing.
    if (current?.snapshot.schema.some((c) => c.name === lookup.key)) {
      const result = await this.ctx.lake.query(
        `SELECT CAST(${duckIdent(lookup.key)} AS VARCHAR) AS k, epoch_ms(max(_ingested_at)) AS at FROM ${table} GROUP BY 1`,
        { json: { numbers: true } },
      );
      for (const r of result.rows) held.set(normaliseKey(String(r.k)), Number(r.at));
    }
    const ttl = lookup.ttl === undefined ? undefined : toMillis(lookup.ttl, `${at}.ttl`);
    const now = Date.now();
    const separator = lookup.separator ?? ',';
    const unusable = wanted.filter((k) => k.includes(separator));
    if (unusable.length) {
      this.report.warnings.push(`${at}: ${unusable.length} key(s) hold the separator "${separator}" and cannot be asked: ${unusable.slice(0, 10).join(' | ')}`);
    }
    const missing = wanted.filter((k) => !k.includes(separator) && (!held.has(k) || (ttl !== undefined && now - held.get(k)! > ttl)));
    this.asked.set(resource.name, new Set(missing));
    const batch = lookup.batch ?? 100;
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < missing.length; i += batch) rows.push({ keys: missing.slice(i, i + batch).join(separator) });
    return rows;
  }

  /** The parent records (or query rows) a child resource is read for; undefined: it has no parent. */
  private async parentsOf(resource: Resource): Promise<Record<string, unknown>[] | undefined> {
    if (resource.lookup) return this.lookupRequests(resource);
    if (resource.parent === undefined) return undefined;
    if (typeof resource.parent === 'string') return this.parentRows.get(resource.parent) ?? [];
    const at = resource.name === this.ctx.name ? `${this.where}.parent.query` : `${this.where}.resources.${resource.name}.parent.query`;
    try {
      const result = await this.ctx.lake.query(resource.parent.query, { json: { numbers: true } });
      return result.rows as Record<string, unknown>[];
    } catch (err) {
      // A table the query reads does not exist yet (the first run of a pipeline): nothing to read for, yet.
      if (err instanceof TributaryError && err.code === 'TABLE_NOT_FOUND') {
        this.report.warnings.push(`${at}: ${err.message}: no request made`);
        return [];
      }
      throw new TributaryError('CONFIG_INVALID', `${at}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** The pages of one request sequence. */
  private async *pages(
    resource: Resource,
    vars: Record<string, unknown>,
    start: unknown,
  ): AsyncIterable<{ response: HttpResponse; body: unknown; records: unknown[] }> {
    const at = resource.name === this.ctx.name ? this.where : `${this.where}.resources.${resource.name}`;
    const missing = (name: string): never => {
      // No start yet is the config's doing; a parent's record without the field fails the resource (the API's doing).
      throw new TributaryError(
        name === '$cursor' ? 'CONFIG_INVALID' : 'INGEST_FAILED',
        name === '$cursor'
          ? `${at}: {$cursor} has no value yet: give incremental.initial`
          : `${at}: the placeholder {${name}} has no value in the parent's record (fields: ${[
              ...(typeof resource.parent === 'string' ? (this.parentFields.get(resource.parent) ?? []) : Object.keys(vars).filter((k) => !k.startsWith('$'))),
            ].join(', ')})`,
      );
    };
    const base = this.config.baseUrl.replace(/\/+$/, '');
    const route = resource.path ? fill(resource.path, vars, missing, true) : '';
    const url = new URL(`${base}${route && !route.startsWith('/') ? '/' : ''}${route}`);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(resource.params ?? {})) params[k] = typeof v === 'string' ? fill(v, vars, missing) : String(v);
    if (resource.incremental?.param && start !== undefined) params[resource.incremental.param] = typeof start === 'string' ? start : JSON.stringify(start);
    const body = resource.body === undefined ? undefined : fillDeep(resource.body, vars, missing);
    const headers = { ...(this.config.headers ?? {}), ...(resource.headers ?? {}) };
    // Credentials go to the API's own origin only: a next page's URL on another host gets none.
    const origin = new URL(this.config.baseUrl).origin;
    let request: PageRequest | undefined = firstPage(resource.paginate, url, params);
    const seen = new Set<string>();
    let previousBody: string | undefined;
    const maxPages = resource.maxPages ?? 10_000;
    for (let n = 0; request; n++) {
      if (n >= maxPages) {
        // An incremental resource would commit a cursor past pages it never read: it fails instead.
        if (resource.incremental) {
          throw new TributaryError('INGEST_FAILED', `${at}: more than maxPages (${maxPages}) pages; nothing of ${resource.name} committed`, {
            hint: `raise ${at}.maxPages`,
          });
        }
        this.report.warnings.push(`${at}: stopped after maxPages (${maxPages}) pages; raise maxPages if the API has more`);
        return;
      }
      const target = new URL(request.url);
      for (const [k, v] of Object.entries(request.params)) target.searchParams.set(k, v);
      const own = target.origin === origin;
      // The key is always the real one (a next URL may echo it, or carry the masked form).
      for (const [k, v] of Object.entries(this.auth.query)) {
        if (own) target.searchParams.set(k, v);
        else target.searchParams.delete(k);
      }
      const key = target.toString();
      if (seen.has(key)) {
        throw new TributaryError(
          'INGEST_FAILED',
          `${at}: the API gave the same next page twice (${this.client.mask(key)}): stopped instead of reading it forever; nothing of ${resource.name} committed`,
        );
      }
      seen.add(key);
      let response: HttpResponse;
      try {
        response = await this.client.fetch({
          where: at,
          url: target,
          method: resource.method ?? 'GET',
          headers: own ? { ...this.auth.headers, ...headers } : headers,
          ...(body !== undefined ? { body } : {}),
        });
      } catch (err) {
        // A lookup API answers 404 when it knows none of the keys asked (REST Countries does): no record, not a
        // failure; the keys are named in the report.
        if (resource.lookup && err instanceof HttpStatusError && err.status === 404) return;
        throw err;
      }
      let parsed: unknown;
      try {
        parsed = response.body.trim() === '' ? undefined : parseJson(response.body);
      } catch (err) {
        const type = response.headers['content-type'] ?? 'no content type';
        throw new Malformed(
          'invalid_json',
          `${at}: ${response.url} answered ${response.status} with a body that is not JSON (${type}${/html/i.test(type) || /^\s*</.test(response.body) ? ', an HTML page' : ''}${err instanceof SyntaxError && /position \d+/.test(err.message) ? `, ${/position \d+/.exec(err.message)![0]}` : ''}): ${snippet(this.client.mask(response.body))}`,
          response,
        );
      }
      if (parsed === undefined) throw new Malformed('invalid_json', `${at}: ${response.url} answered ${response.status} with an empty body`, response);
      const records = selectRecords(parsed, resource.select);
      if (!records) {
        throw new Malformed(
          'no_records',
          `${at}: ${response.url}: the record selector ${resource.select ?? '(default)'} finds nothing in the body: ${snippet(this.client.mask(response.body))}`,
          response,
        );
      }
      // An API that ignores the page asked for answers the same page again: stop rather than land it twice.
      const bodyHash = createHash('sha256').update(response.body).digest('hex');
      if (records.length > 0 && bodyHash === previousBody) {
        throw new TributaryError(
          'INGEST_FAILED',
          `${at}: ${response.url} answered the same page as the request before it: the API ignores the paginator's parameters (${this.client.mask(JSON.stringify(request.params))}); nothing of ${resource.name} committed`,
          { hint: 'check paginate (its parameter names) against the API' },
        );
      }
      previousBody = bodyHash;
      yield { response, body: parsed, records };
      if (records.length === 0) return;
      request = nextPage(resource.paginate, request, { body: parsed, headers: response.rawHeaders, records: records.length, url: target }, (m) => {
        throw new TributaryError('INGEST_FAILED', `${at}: ${m}`);
      });
    }
  }

  /** Sets a malformed response aside: its body kept in the lake's quarantine folder, the reason recorded. */
  async quarantine(resource: Resource, malformed: Malformed): Promise<void> {
    // The body as received, secrets masked; one entry per resource's table and content.
    const bytes = Buffer.from(this.client.mask(malformed.response.body), 'utf8');
    const table = parseTableName(resource.into).name;
    const hash = createHash('sha256').update(`${table}\n`).update(bytes).digest('hex');
    const storedPath = `_quarantine/${hash.slice(0, 16)}/response.body`;
    if (!(await this.ctx.lake.storage.exists(storedPath))) await this.ctx.lake.storage.put(storedPath, bytes);
    const entry = await this.ctx.lake.catalog.quarantine.add({
      source: this.ctx.name,
      path: malformed.response.url,
      fileHash: hash,
      storedPath,
      table,
      reasonCode: malformed.code,
      reason: malformed.message,
      details: { resource: resource.name, status: malformed.response.status, headers: malformed.response.headers, fetchedAt: malformed.response.fetchedAt },
      ...(this.ctx.runId ? { runId: this.ctx.runId } : {}),
    });
    this.report.quarantined.push({ id: entry.id, path: malformed.response.url, reasonCode: malformed.code, reason: malformed.message });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The incremental cursor of one resource: which records are new, the largest value, the records at it. */
class CursorTracker {
  max: unknown;
  private readonly atMax = new Set<string>();
  private readonly seen: Set<string>;

  constructor(
    private readonly previous: ResourceState,
    private readonly start: unknown,
  ) {
    this.max = previous.cursor;
    this.seen = new Set(previous.boundary ?? []);
    if (previous.cursor !== undefined) for (const h of previous.boundary ?? []) this.atMax.add(h);
  }

  /** False for a record already read: before the start, or at it and read by the last run. */
  admit(record: Record<string, unknown>, cursorPath: string): boolean {
    const value = plain(valueAt(record, cursorPath));
    if (value === undefined || value === null) return true;
    const last = this.previous.cursor;
    if (last !== undefined) {
      const c = compareCursor(value, last);
      if (c < 0) return false;
      if (c === 0 && this.seen.has(hashRecord(record))) return false;
    } else if (this.start !== undefined && compareCursor(value, this.start) < 0) return false;
    const hash = hashRecord(record);
    if (this.max === undefined || compareCursor(value, this.max) > 0) {
      this.max = value;
      this.atMax.clear();
    }
    if (compareCursor(value, this.max) === 0) this.atMax.add(hash);
    return true;
  }

  boundary(): string[] {
    return [...this.atMax];
  }
}

function rawRow(resource: string, response: HttpResponse, page: number, mask: (text: string) => string) {
  return {
    resource,
    page,
    url: response.url,
    status: response.status,
    headers: JSON.stringify(response.headers),
    body: mask(response.body),
    fetched_at: response.fetchedAt.toISOString(),
    attempts: response.attempts,
  };
}

const RAW_COLUMNS = `{resource: 'VARCHAR', page: 'INTEGER', url: 'VARCHAR', status: 'INTEGER', headers: 'JSON', body: 'VARCHAR', fetched_at: 'TIMESTAMPTZ', attempts: 'INTEGER'}`;

/**
 * DuckDB's `maximum_object_size` for a file whose longest line is known: its default (16 MiB) unless a line is longer.
 * A larger limit costs memory and time (DuckDB sizes its read buffers from it), so it is never set higher than needed.
 */
function objectLimit(longest: number): number {
  return Math.max(16 * 1024 * 1024, longest + 1024);
}

/**
 * The SELECT of a resource's records, typed: declared columns as declared, the others as DuckDB infers them from
 * every record (the table's schema contract then decides what a type the table holds otherwise does: recordsChange).
 */
async function recordsSelect(poll: Poll, run: ResourceRun): Promise<string> {
  const { ctx } = poll;
  const file = quoteLiteral(run.recordsFile);
  const inferred = await ctx.lake.engine.describe(
    `SELECT * FROM read_json(${file}, format = 'newline_delimited', sample_size = -1, maximum_object_size = ${objectLimit(run.longest)})`,
  );
  const declared = run.resource.columns ?? {};
  const types: [string, string][] = inferred.map((c) => [c.name, declared[c.name] ?? c.type]);
  for (const [name, type] of Object.entries(declared)) if (!types.some(([n]) => n === name)) types.push([name, type]);
  const columns = `{${types.map(([n, t]) => `${quoteLiteral(n)}: ${quoteLiteral(t)}`).join(', ')}}`;
  return `SELECT * FROM read_json(${file}, format = 'newline_delimited', columns = ${columns}, maximum_object_size = ${objectLimit(run.longest)})`;
}

/** Writes one resource's records as its disposition says: the change its commit makes. */
async function recordsChange(
  poll: Poll,
  run: ResourceRun,
  batchId: string,
): Promise<{ change?: TableChange; rows: number; rejects?: TableChange; rejectedRows: number; schemaChanges: string[] }> {
  const { ctx } = poll;
  const table = parseTableName(run.resource.into).name;
  const describe = `${run.records} record(s) of ${run.resource.name} in ${run.pages} page(s)`;
  const at = run.resource.name === ctx.name ? poll.where : `${poll.where}.resources.${run.resource.name}`;
  let select: string;
  const exists = Boolean(await ctx.lake.catalog.getTable(table));
  const declared = Object.entries(run.resource.columns ?? {});
  if (run.records === 0) {
    // Nothing read: an empty relation — of the table's columns when it exists (`replace` empties it, keeping its
    // schema for the models that read it), else of the declared ones, which creates the table on a first run
    // (models reading it can run before the API had anything). Append and merge add nothing.
    const current = exists ? await ctx.lake.catalog.resolveSnapshot(table) : undefined;
    const lineage = new Set(['_ingested_at', '_source', '_batch_id']);
    const columns: [string, string][] = current ? current.snapshot.schema.filter((c) => !lineage.has(c.name)).map((c) => [c.name, c.type]) : declared;
    select = `SELECT ${[...columns.map(([n, t]) => `CAST(NULL AS ${t}) AS ${duckIdent(n)}`), `NULL::INTEGER AS ${duckIdent(ORD)}`].join(', ')} WHERE false`;
  } else {
    try {
      select = await recordsSelect(poll, run);
    } catch (err) {
      if (err instanceof TributaryError) throw err;
      throw new TributaryError(
        'INVALID_INPUT',
        `${at}: the records do not fit their types: ${errorMessage(err).split('\n')[0]}; nothing of ${run.resource.name} committed`,
        {
          hint: `declare the field's type in ${at}.columns`,
          cause: err,
        },
      );
    }
  }
  // The table's schema contract: a type it holds otherwise, a new field (declared columns are the config's decision).
  let rejected: { change: TableChange | undefined; rows: number } = { change: undefined, rows: 0 };
  const schemaChanges: string[] = [];
  if (run.records > 0) {
    const contract = resolveSchemaContract(ctx.lake, table, { name: ctx.name, schemaContract: run.resource.schemaContract });
    let planned: Awaited<ReturnType<typeof contractBatch>>;
    try {
      planned = await contractBatch(ctx.lake, contract, select, at, { passthrough: [ORD, ...declared.map(([n]) => n)], internal: [ORD] });
    } catch (err) {
      if (!(err instanceof TributaryError)) throw err;
      throw new TributaryError(
        'INVALID_INPUT',
        err.message.replace(/; nothing committed$/, `; nothing of ${run.resource.name} committed`),
        err.hint ? { hint: err.hint } : {},
      );
    }
    select = planned.select;
    schemaChanges.push(...planned.changes, ...planned.discarded.map((c) => `field ${c} dropped (${policy(contract, 'columns')})`));
    rejected = await writeRejects(ctx.lake, table, planned.rejects && `SELECT *, ${lineageColumns(ctx.name, batchId)} FROM (${planned.rejects})`, {
      source: ctx.name,
    });
  }
  const extra = { rejectedRows: rejected.rows, schemaChanges, ...(rejected.change ? { rejects: rejected.change } : {}) };
  // Records keep the order the API gave them: DuckDB reads the file in order (insertion order is preserved); the
  // ordinal only decides which record of a key wins a merge.
  const lineage = `SELECT * EXCLUDE (${duckIdent(ORD)}), ${lineageColumns(ctx.name, batchId)} FROM (${select})`;
  const disposition = run.resource.lookup ? 'merge' : (run.resource.disposition ?? 'append');
  if (disposition === 'merge' && run.records > 0) {
    const key = run.resource.lookup ? [run.resource.lookup.key] : [run.resource.primaryKey!].flat();
    const current = (await ctx.lake.catalog.getTable(table)) ? await ctx.lake.catalog.resolveSnapshot(table) : undefined;
    const keyCols = key.map(duckIdent).join(', ');
    // The last record of a key in this run wins; the table's rows of the keys read are replaced.
    const fresh = `SELECT * EXCLUDE (${duckIdent(ORD)}), ${lineageColumns(ctx.name, batchId)} FROM (${select}) QUALIFY row_number() OVER (PARTITION BY ${keyCols} ORDER BY ${duckIdent(ORD)} DESC) = 1`;
    const fields = new Set((await ctx.lake.engine.describe(select)).map((c) => c.name));
    const absent = key.find((k) => !fields.has(k));
    if (absent !== undefined)
      throw new TributaryError('INVALID_INPUT', `${at}.primaryKey: the records have no field "${absent}"; nothing of ${run.resource.name} committed`);
    const same = key.map((k) => `n.${duckIdent(k)} IS NOT DISTINCT FROM e.${duckIdent(k)}`).join(' AND ');
    // Rows of a table without the key columns yet (created empty by a first run) cannot match: they all stay.
    const keyed = current && key.every((k) => current.snapshot.schema.some((c) => c.name === k));
    const merged = current
      ? `SELECT * FROM (${await ctx.lake.selectOfFiles(current.files, current.snapshot.schema)}) AS e ${keyed ? `WHERE NOT EXISTS (SELECT 1 FROM (${fresh}) AS n WHERE ${same})` : ''} UNION ALL BY NAME SELECT * FROM (${fresh})`
      : fresh;
    const written = await ctx.lake.writeFiles(table, merged);
    return {
      change: {
        ...ctx.lake.change(written, 'overwrite', { source: ctx.name, batch: describe }),
        operation: 'merge',
        expectedSnapshot: current?.snapshot.snapshotId ?? 0,
      },
      rows: run.records - rejected.rows,
      ...extra,
    };
  }
  if (run.records === 0 && disposition !== 'replace' && (exists || declared.length === 0)) return { rows: 0, ...extra };
  const written = await ctx.lake.writeFiles(table, lineage);
  return {
    change: ctx.lake.change(written, disposition === 'replace' ? 'overwrite' : 'append', { source: ctx.name, batch: describe }),
    rows: written.rowCount,
    ...extra,
  };
}

export const httpConnector: SourceConnector<HttpSourceConfig> = {
  kind: 'http',
  schema: httpSourceSchema,
  writes: (config) => [rawTable(config), config.into, ...Object.values(config.resources ?? {}).map((r) => r.into)],
  // A lookup's keys come from the tables the lake uses: it runs after them (seed 000's countries after the invoices).
  lakeQueries: (config) => [config, ...Object.values(config.resources ?? {})].flatMap((r) => (r.lookup ? [r.lookup.keys] : [])),

  async plan(ctx, config) {
    // An API says what is new only when asked: every poll asks.
    const resources = resourcesOf(ctx, config);
    return { upToDate: false, summary: `${resources.length} resource(s) of ${new URL(config.baseUrl).host} polled at every run`, warnings: [] };
  },

  async ingest(ctx, config) {
    const resources = resourcesOf(ctx, config);
    const committed = await ctx.lake.catalog.sourceStates.get(ctx.name);
    const state: HttpState = { polls: 0, resources: {}, ...((committed?.state as HttpState | undefined) ?? {}) };
    const poll = new Poll(ctx, config, resources, state);
    const report = poll.report;
    const written: { path: string }[] = [];
    try {
      const runs: ResourceRun[] = [];
      const failures: string[] = [];
      for (const [i, resource] of resources.entries()) {
        report.discovered++;
        ctx.onProgress?.({ source: ctx.name, phase: 'reading', done: i, total: resources.length });
        const parentFailed = typeof resource.parent === 'string' ? runs.find((r) => r.resource.name === resource.parent)?.failed : undefined;
        if (parentFailed) {
          runs.push({
            resource,
            recordsFile: '',
            rawFile: '',
            records: 0,
            pages: 0,
            longest: 0,
            longestRaw: 0,
            failed: `its parent ${String(resource.parent)} failed`,
          });
          report.skipped.push({ path: resource.name, reason: `its parent ${String(resource.parent)} was not read` });
          continue;
        }
        try {
          runs.push(await poll.read(resource));
        } catch (err) {
          if (err instanceof Malformed) {
            await poll.quarantine(resource, err);
            runs.push({ resource, recordsFile: '', rawFile: '', records: 0, pages: 0, longest: 0, longestRaw: 0, failed: err.message });
            continue;
          }
          // The circuit is open: the API is down; nothing is committed.
          if (err instanceof TributaryError && err.code === 'SOURCE_UNAVAILABLE' && /circuit open/.test(err.message)) throw err;
          if (
            err instanceof TributaryError &&
            (err instanceof HttpStatusError || err.code === 'SOURCE_UNAVAILABLE' || err.code === 'INGEST_FAILED' || err.code === 'INVALID_INPUT')
          ) {
            runs.push({ resource, recordsFile: '', rawFile: '', records: 0, pages: 0, longest: 0, longestRaw: 0, failed: err.message });
            failures.push(err.message);
            continue;
          }
          throw err;
        }
      }
      const good = runs.filter((r) => !r.failed);
      ctx.onProgress?.({ source: ctx.name, phase: 'committing', done: resources.length, total: resources.length });
      const batchId = newId('b');
      const typed = new Map<ResourceRun, { change?: TableChange; rejects?: TableChange; table: string; rows: number; rejectedRows: number }>();
      for (const run of good) {
        try {
          const { change, rows, rejects, rejectedRows, schemaChanges } = await recordsChange(poll, run, batchId);
          if (change) written.push(...change.addFiles);
          if (rejects) written.push(...rejects.addFiles);
          for (const c of schemaChanges) report.schemaChanges.push(`${run.resource.name}: ${c}`);
          typed.set(run, { ...(change ? { change } : {}), ...(rejects ? { rejects } : {}), table: parseTableName(run.resource.into).name, rows, rejectedRows });
        } catch (err) {
          if (!(err instanceof TributaryError) || err.code !== 'INVALID_INPUT') throw err;
          run.failed = err.message;
          failures.push(err.message);
        }
      }
      // A resource and its children are committed together or not at all: a parent's cursor must not move past
      // records whose children were not read, and children must not land twice when their parent is read again.
      const rootOf = (r: Resource): string => {
        let at = r;
        while (typeof at.parent === 'string') at = resources.find((x) => x.name === at.parent)!;
        return at.name;
      };
      const failedFamilies = new Map<string, string>();
      for (const run of runs) if (run.failed && !failedFamilies.has(rootOf(run.resource))) failedFamilies.set(rootOf(run.resource), run.resource.name);
      for (const run of good) {
        const family = failedFamilies.get(rootOf(run.resource));
        if (run.failed || family === undefined) continue;
        run.failed = `not committed: ${family}, of the same family, failed`;
        report.skipped.push({ path: run.resource.name, reason: `read, but not committed: ${family}, a resource of the same family, failed` });
        const files = [...(typed.get(run)?.change?.addFiles ?? []), ...(typed.get(run)?.rejects?.addFiles ?? [])];
        if (files.length) {
          await ctx.lake.abandon(files);
          const gone = new Set(files.map((f) => f.path));
          written.splice(0, written.length, ...written.filter((f) => !gone.has(f.path)));
        }
      }
      const changes: TableChange[] = [...typed.entries()]
        .filter(([run]) => !run.failed)
        .flatMap(([, t]) => [t.change, t.rejects].filter((c): c is TableChange => c !== undefined));
      const landed = good.filter((r) => !r.failed);
      if (landed.some((r) => r.pages > 0)) {
        const files = landed.filter((r) => r.pages > 0).map((r) => quoteLiteral(r.rawFile));
        const longestRaw = Math.max(...landed.map((r) => r.longestRaw));
        const raw = await ctx.lake.writeFiles(
          parseTableName(rawTable(config), `${poll.where}.raw`).name,
          `SELECT *, ${lineageColumns(ctx.name, batchId)} FROM read_json([${files.join(', ')}], format = 'newline_delimited', columns = ${RAW_COLUMNS}, maximum_object_size = ${objectLimit(longestRaw)})`,
          // Responses are wide rows: row groups of about 64 MiB, not DuckDB's 122,880 rows held in memory at once.
          { rowGroupSize: Math.min(122_880, Math.floor((64 * 1024 * 1024) / Math.max(1, longestRaw))) },
        );
        written.push(...raw.files);
        changes.push(ctx.lake.change(raw, 'append', { source: ctx.name, batch: batchId }));
      }
      const next: HttpState = { polls: state.polls + 1, resources: { ...state.resources } };
      for (const r of landed) if (r.state) next.resources[r.resource.name] = r.state;
      // Entries of a page that reads well now are superseded.
      const open = (await ctx.lake.catalog.quarantine.list({ source: ctx.name })).filter((e) =>
        landed.some((r) => parseTableName(r.resource.into).name === e.table),
      );
      const parts: CommitPart[] = [
        ctx.lake.catalog.sourceStates.advance({ source: ctx.name, expectedVersion: committed?.version ?? 0, state: next }),
        ...open.map((e) => ctx.lake.catalog.quarantine.resolveOnCommit(e.id)),
      ];
      const result = await ctx.lake.commit({ ...(ctx.runId ? { runId: ctx.runId } : {}), changes, parts });
      written.length = 0;
      for (const [run, { table, rows, rejectedRows }] of typed) {
        if (run.failed) continue;
        report.rejectedRows += rejectedRows;
        report.ingested.push({
          path: `${run.resource.name}: ${run.records} record(s), ${run.pages} page(s)`,
          hash: createHash('sha256').update(`${batchId}:${run.resource.name}`).digest('hex'),
          rows,
          rejectedRows,
          snapshotId: result.snapshots[table] ?? 0,
          replacedRows: 0,
        });
        report.rows += rows;
      }
      if (failures.length) {
        throw new TributaryError(
          'INGEST_FAILED',
          `${failures.join('; ')}${landed.length ? ` (committed: ${landed.map((r) => r.resource.name).join(', ')})` : ''}`,
        );
      }
      return report;
    } catch (err) {
      await ctx.lake.abandon(written);
      throw err;
    } finally {
      poll.close();
    }
  },
};
