import { describe, expect, it } from 'vitest';
import { http } from '../src/config/define.js';
import type { HttpSourceConfig, TributaryConfig } from '../src/config/types.js';
import { runIngest } from '../src/ingest/run.js';
import { linkNext } from '../src/sources/http/paginate.js';
import { selectRecords, valueAt } from '../src/sources/http/select.js';
import { probeAssets } from '../src/orchestration/kinds/probe.js';
import { createLogger } from '../src/util/logger.js';
import { PG_URL } from './support/helpers.js';
import { items, json, startTestApi } from './support/http-api.js';
import { openTestLake, rows } from './support/project.js';

// The HTTP source against real local servers that misbehave on purpose (test/support/http-api.ts).
const api = await startTestApi();
const fast = { retry: { delay: 5, maxDelay: '3s' } } as const;

async function lakeWith(sources: Record<string, Omit<HttpSourceConfig, 'kind'>>, extra: TributaryConfig = {}) {
  const config: TributaryConfig = { ...extra, sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, http(v)])) };
  return (await openTestLake(config)).lake;
}

const ids = async (lake: Awaited<ReturnType<typeof lakeWith>>, table: string) => (await rows(lake, `SELECT id FROM ${table} ORDER BY id`)).map((r) => r.id);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('http source: pagination', () => {
  const all = items(25);
  api.route('/offset', (_req, res, { query }) => {
    const offset = Number(query.get('offset'));
    const limit = Math.min(Number(query.get('limit')), 7); // the server caps limit below what is asked
    json(res, { data: all.slice(offset, offset + limit), meta: { total: all.length } });
  });
  api.route('/page', (_req, res, { query }) => {
    const page = Number(query.get('page'));
    const size = Number(query.get('per_page'));
    json(res, { results: all.slice((page - 1) * size, page * size), total_pages: Math.ceil(all.length / size) });
  });
  api.route('/cursor', (_req, res, { query }) => {
    const after = Number(query.get('after') ?? 0);
    const page = all.filter((i) => i.id > after).slice(0, 10);
    json(res, { items: page, meta: { next_cursor: page.length === 10 ? String(page.at(-1)!.id) : null } });
  });
  api.route('/next', (_req, res, { query }) => {
    const from = Number(query.get('from') ?? 0);
    json(res, { records: all.slice(from, from + 10), next: from + 10 < all.length ? `/next?from=${from + 10}` : null });
  });
  api.route('/link', (req, res, { query }) => {
    const page = Number(query.get('page') ?? 1);
    const links = [`<http://${req.headers.host}/link?page=1>; rel="first"`];
    if (page * 10 < all.length) links.push(`<http://${req.headers.host}/link?page=${page + 1}>; rel="next"`);
    json(res, all.slice((page - 1) * 10, page * 10), 200, { link: links.join(', ') });
  });
  api.route('/empty-ends', (_req, res, { query }) => {
    const page = Number(query.get('page'));
    json(res, { data: page <= 3 ? all.slice((page - 1) * 10, page * 10) : [] });
  });

  const styles: [string, Omit<HttpSourceConfig, 'kind' | 'into' | 'baseUrl'>, number][] = [
    ['offset/limit, stopping at the total', { path: '/offset', paginate: { type: 'offset', limit: 10, total: 'meta.total' } }, 4],
    ['page number, stopping at the page count', { path: '/page', select: 'results[*]', paginate: { type: 'page', size: 10, total: 'total_pages' } }, 3],
    ['a cursor in the body', { path: '/cursor', select: '$.items', paginate: { type: 'cursor', cursor: 'meta.next_cursor', param: 'after' } }, 3],
    ['a next URL in the body (relative)', { path: '/next', paginate: { type: 'next', next: 'next' } }, 3],
    ['an RFC 8288 Link header', { path: '/link', select: '$', paginate: { type: 'link' } }, 3],
    ['page numbers until an empty page', { path: '/empty-ends', paginate: { type: 'page' } }, 4],
  ];
  for (const [style, resource, pages] of styles) {
    it(`reads every record once through ${style}, each response kept in the raw table`, async () => {
      const lake = await lakeWith({ things: { baseUrl: api.url, into: 'bronze.things', ...resource } });
      const report = await runIngest(lake);
      expect(report.sources[0]).toMatchObject({ rows: 25, unit: 'resource', quarantined: [] });
      expect(await ids(lake, 'bronze.things')).toEqual(range(1, 25));
      const raw = await rows(lake, 'SELECT resource, page, status, url, body, fetched_at FROM bronze.things_raw ORDER BY page');
      expect(raw.length).toBe(pages);
      expect(raw.every((r) => r.status === 200 && r.resource === 'things')).toBe(true);
      expect(raw.every((r) => typeof r.body === 'string' && JSON.parse(r.body as string) !== undefined)).toBe(true);
      const columns = (await rows(lake, 'DESCRIBE bronze.things')).map((r) => r.column_name);
      expect(columns).toEqual(['id', 'name', 'updated_at', '_ingested_at', '_source', '_batch_id']);
    });
  }

  it('stops with an error, committing nothing, when the API gives the same next page twice', async () => {
    api.route('/repeats', (_req, res, { query }) => json(res, { data: items(2, query.get('c') ? 10 : 1), next_cursor: 'abc' }));
    const lake = await lakeWith({
      loop: { baseUrl: api.url, into: 'bronze.loop', path: '/repeats', paginate: { type: 'cursor', cursor: 'next_cursor', param: 'c' } },
    });
    await expect(runIngest(lake)).rejects.toThrow(/sources\.loop: the API gave the same next page twice \(http:\/\/127\.0\.0\.1:\d+\/repeats\?c=abc\)/);
    expect((await lake.tables()).map((t) => t.name)).toEqual([]);
  });

  it('stops with an error when the API ignores the page asked for and answers the same page again', async () => {
    api.route('/ignores', (_req, res) => json(res, { data: items(3) }));
    const lake = await lakeWith({
      same: { baseUrl: api.url, into: 'bronze.same', path: '/ignores', paginate: { type: 'offset', limit: 3, offsetParam: 'skip' } },
    });
    await expect(runIngest(lake)).rejects.toThrow(/sources\.same: .*\/ignores\?skip=3&limit=3 answered the same page as the request before it/);
    expect(await lake.tables()).toEqual([]);
  });

  it('stops at maxPages with a warning', async () => {
    api.route('/endless', (_req, res, { query }) => json(res, { data: [{ id: Number(query.get('page')) }] }));
    const lake = await lakeWith({ endless: { baseUrl: api.url, into: 'bronze.endless', path: '/endless', paginate: { type: 'page' }, maxPages: 5 } });
    const report = await runIngest(lake);
    expect(report.sources[0]!.warnings).toEqual([expect.stringMatching(/stopped after maxPages \(5\) pages/)]);
    expect(await ids(lake, 'bronze.endless')).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads the small JSON paths of selectors and Link headers', () => {
    const body = { data: { items: [{ id: 1 }, { id: 2 }] }, meta: { 'next-page': 'x' }, list: [[1], [2]] };
    expect(valueAt(body, '$.data.items[1].id')).toBe(2);
    expect(valueAt(body, "meta['next-page']")).toBe('x');
    expect(selectRecords(body, 'data.items[*]')).toHaveLength(2);
    expect(selectRecords(body, 'data.missing')).toBeUndefined();
    expect(selectRecords([{ a: 1 }], undefined)).toEqual([{ a: 1 }]);
    expect(selectRecords({ results: [1, 2] }, undefined)).toEqual([1, 2]);
    expect(selectRecords({ status: 'ok' }, undefined)).toEqual([{ status: 'ok' }]);
    expect(linkNext('<https://a/x?page=3>; rel="next", <https://a/x?page=9>; rel="last"')).toBe('https://a/x?page=3');
    expect(linkNext('<https://a/x?page=1>; rel="prev first"')).toBeUndefined();
    expect(linkNext('<https://a/x?page=2>; rel=next')).toBe('https://a/x?page=2');
  });
});

describe('http source: auth', () => {
  const TOKEN = 'tok-5ecret-value';
  api.route('/private', (req, res, { query }) => {
    const ok =
      req.headers.authorization === `Bearer ${TOKEN}` ||
      req.headers['x-api-key'] === TOKEN ||
      query.get('api_key') === TOKEN ||
      req.headers.authorization === `Basic ${Buffer.from(`me:${TOKEN}`).toString('base64')}`;
    if (!ok) return json(res, { error: 'unauthorized', got: req.headers.authorization ?? query.get('api_key') ?? null }, 401);
    json(res, { data: [{ id: 1 }] });
  });

  const kinds: [string, HttpSourceConfig['auth']][] = [
    ['a bearer token', { type: 'bearer', token: TOKEN }],
    ['an API key in a header', { type: 'apiKey', value: TOKEN, header: 'X-API-Key' }],
    ['an API key in the query', { type: 'apiKey', value: TOKEN, query: 'api_key' }],
    ['basic auth', { type: 'basic', username: 'me', password: TOKEN }],
  ];
  for (const [kind, auth] of kinds) {
    it(`sends ${kind}, and the secret is nowhere in the lake`, async () => {
      const lake = await lakeWith({ priv: { baseUrl: api.url, into: 'bronze.priv', path: '/private', auth: auth! } });
      await runIngest(lake);
      expect(await ids(lake, 'bronze.priv')).toEqual([1]);
      const raw = await rows(lake, 'SELECT url, CAST(headers AS VARCHAR) AS headers, body FROM bronze.priv_raw');
      expect(JSON.stringify(raw)).not.toContain(TOKEN);
      if (auth!.type === 'apiKey' && auth!.query) expect(raw[0]!.url).toMatch(/api_key=\*\*\*/);
    });
  }

  it('a refusal (401) fails the resource naming the URL, the status and the body, with the secret masked', async () => {
    const lake = await lakeWith({
      wrong: { baseUrl: api.url, into: 'bronze.wrong', path: '/private', auth: { type: 'apiKey', value: 'wrong-key-123', query: 'api_key' } },
    });
    const error = await runIngest(lake).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /sources\.wrong: GET http:\/\/127\.0\.0\.1:\d+\/private\?api_key=\*\*\* answered 401: \{"error":"unauthorized","got":"\*\*\*"\}/,
    );
    expect(String(error)).not.toContain('wrong-key-123');
  });
});

describe('http source: resilience', () => {
  it('retries 429 after the Retry-After it asks for', async () => {
    api.route('/limited', (_req, res, { hit }) =>
      hit <= 2 ? json(res, { error: 'slow down' }, 429, { 'retry-after': '1' }) : json(res, { data: [{ id: 7 }] }),
    );
    const lake = await lakeWith({ limited: { baseUrl: api.url, into: 'bronze.limited', path: '/limited', ...fast } });
    await runIngest(lake);
    expect(await ids(lake, 'bronze.limited')).toEqual([7]);
    const times = api.requests.filter((r) => r.path === '/limited').map((r) => r.at);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(950);
    expect((await rows(lake, 'SELECT attempts FROM bronze.limited_raw'))[0]!.attempts).toBe(3);
  });

  it('retries a burst of 503, an answer slower than the timeout and a body cut short', async () => {
    api.route('/burst', (_req, res, { hit }) => (hit <= 3 ? json(res, { error: 'unavailable' }, 503) : json(res, { data: [{ id: 1 }] })));
    api.route('/slow', async (_req, res, { hit }) => {
      if (hit === 1) await new Promise((r) => setTimeout(r, 1500));
      json(res, { data: [{ id: 2 }] });
    });
    api.route('/cut', (_req, res, { hit }) => {
      if (hit === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
        res.write('{"data": [{"id": 3}, {"id":');
        setTimeout(() => res.destroy(), 50);
        return;
      }
      json(res, { data: [{ id: 3 }] });
    });
    const lake = await lakeWith({
      burst: {
        baseUrl: api.url,
        into: 'bronze.burst',
        path: '/burst',
        timeout: '500ms',
        ...fast,
        resources: { slow: { path: '/slow', into: 'bronze.slow' }, cut: { path: '/cut', into: 'bronze.cut' } },
      },
    });
    await runIngest(lake);
    expect([await ids(lake, 'bronze.burst'), await ids(lake, 'bronze.slow'), await ids(lake, 'bronze.cut')]).toEqual([[1], [2], [3]]);
    expect((await rows(lake, 'SELECT resource, attempts FROM bronze.burst_raw ORDER BY resource')).map((r) => [r.resource, r.attempts])).toEqual([
      ['burst', 4],
      ['cut', 2],
      ['slow', 2],
    ]);
  });

  it('opens the circuit after N failures in a row: the run stops, nothing is committed', async () => {
    api.route('/down', (_req, res) => json(res, { error: 'down' }, 503));
    api.route('/up', (_req, res) => json(res, { data: [{ id: 1 }] }));
    const lake = await lakeWith({
      down: { baseUrl: api.url, into: 'bronze.up', path: '/up', circuitBreaker: 3, ...fast, resources: { down: { path: '/down', into: 'bronze.down' } } },
    });
    await expect(runIngest(lake)).rejects.toThrow(
      /sources\.down: stopped after 3 failed requests in a row \(circuit open\); the last, GET http:\/\/127\.0\.0\.1:\d+\/down, answered 503/,
    );
    expect(await lake.tables()).toEqual([]);
    expect(await lake.catalog.sourceStates.get('down')).toBeUndefined();
  });

  it('gives up after the retries with the URL and the last failure, committing the other resources', async () => {
    api.route('/always503', (_req, res) => json(res, { error: 'nope' }, 503));
    const lake = await lakeWith({
      mixed: {
        baseUrl: api.url,
        into: 'bronze.fine',
        path: '/up',
        retry: { attempts: 2, delay: 5 },
        resources: { bad: { path: '/always503', into: 'bronze.bad' } },
      },
    });
    await expect(runIngest(lake)).rejects.toThrow(/\/always503 answered 503: \{"error":"nope"\} \(3 attempt\(s\)\) \(committed: mixed\)/);
    expect(await ids(lake, 'bronze.fine')).toEqual([1]);
    expect((await lake.tables()).map((t) => t.name).sort()).toEqual(['bronze.fine', 'bronze.fine_raw']);
  });

  it('spaces requests by the rate limit', async () => {
    api.route('/paced', (_req, res, { query }) => json(res, { data: Number(query.get('page')) <= 5 ? [{ id: Number(query.get('page')) }] : [] }));
    const lake = await lakeWith({ paced: { baseUrl: api.url, into: 'bronze.paced', path: '/paced', paginate: { type: 'page' }, rateLimit: 5 } });
    await runIngest(lake);
    const times = api.requests.filter((r) => r.path === '/paced').map((r) => r.at);
    expect(times).toHaveLength(6);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(950);
  });
});

describe('http source: malformed responses', () => {
  it('quarantines an HTML error page and a body the selector finds nothing in; other resources go on', async () => {
    let broken = true;
    api.route('/html', (_req, res) => {
      if (!broken) return json(res, { data: [{ id: 5 }] });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    api.route('/wrapped', (_req, res) => json(res, broken ? { error: { message: 'quota exceeded' } } : { data: [{ id: 6 }] }));
    const lake = await lakeWith({
      pages: {
        baseUrl: api.url,
        into: 'bronze.good',
        path: '/up',
        resources: { html: { path: '/html', into: 'bronze.html' }, wrapped: { path: '/wrapped', select: 'data', into: 'bronze.wrapped' } },
      },
    });
    const report = await runIngest(lake);
    expect(report.status).toBe('partial');
    expect(report.sources[0]!.quarantined.map((q) => [q.reasonCode, q.reason])).toEqual([
      [
        'invalid_json',
        expect.stringMatching(
          /resources\.html: http:\/\/127\.0\.0\.1:\d+\/html answered 200 with a body that is not JSON \(text\/html, an HTML page(, position \d+)?\): <html><body><h1>502 Bad Gateway/,
        ),
      ],
      [
        'no_records',
        expect.stringMatching(
          /resources\.wrapped: .*\/wrapped: the record selector data finds nothing in the body: \{"error":\{"message":"quota exceeded"\}\}/,
        ),
      ],
    ]);
    expect((await lake.tables()).map((t) => t.name).sort()).toEqual(['bronze.good', 'bronze.good_raw']);
    expect((await rows(lake, 'SELECT resource FROM bronze.good_raw')).map((r) => r.resource)).toEqual(['pages']);
    const entries = await lake.catalog.quarantine.list({ source: 'pages' });
    expect(entries.map((e) => e.table)).toEqual(['bronze.html', 'bronze.wrapped']);
    const kept = await lake.storage.get(entries[0]!.storedPath!);
    expect(Buffer.from(kept!).toString()).toContain('502 Bad Gateway');
    // Once the API answers well again, the pages land and their quarantine entries are resolved by that commit.
    broken = false;
    await runIngest(lake);
    expect([await ids(lake, 'bronze.html'), await ids(lake, 'bronze.wrapped')]).toEqual([[5], [6]]);
    expect(await lake.catalog.quarantine.list({ source: 'pages' })).toEqual([]);
  });
});

describe('http source: incremental and dispositions', () => {
  it('sends the cursor back, and lands each record once from an API whose start is inclusive', async () => {
    let data = items(5);
    api.route('/changes', (_req, res, { query }) => {
      const since = query.get('since');
      json(res, { data: data.filter((i) => !since || i.updated_at >= since) });
    });
    const lake = await lakeWith({
      changes: { baseUrl: api.url, into: 'bronze.changes', path: '/changes', incremental: { cursor: 'updated_at', param: 'since' } },
    });
    await runIngest(lake);
    expect(await ids(lake, 'bronze.changes')).toEqual(range(1, 5));
    data = items(8);
    await runIngest(lake);
    await runIngest(lake);
    expect(await ids(lake, 'bronze.changes')).toEqual(range(1, 8));
    const sent = api.requests.filter((r) => r.path === '/changes').map((r) => new URL(r.url, 'http://x').searchParams.get('since'));
    expect(sent).toEqual([null, items(5)[4]!.updated_at, items(8)[7]!.updated_at]);
    expect(((await lake.catalog.sourceStates.get('changes'))!.state as { polls: number }).polls).toBe(3);
  });

  it('takes the next start from the response when the API gives it', async () => {
    let served = 0;
    api.route('/since', (_req, res, { query }) => {
      const from = Number(query.get('from') ?? 0);
      served++;
      json(res, { data: items(3, from + 1), until: from + 3 });
    });
    const lake = await lakeWith({
      since: { baseUrl: api.url, into: 'bronze.since', path: '/since', params: { from: '{$cursor}' }, incremental: { fromResponse: 'until', initial: 0 } },
    });
    await runIngest(lake);
    await runIngest(lake);
    expect(served).toBe(2);
    expect(await ids(lake, 'bronze.since')).toEqual(range(1, 6));
  });

  it('replace makes each poll the table; merge keeps the last record per key', async () => {
    let version = 1;
    api.route('/state', (_req, res) =>
      json(res, {
        data:
          version === 1
            ? [
                { id: 1, v: 'a' },
                { id: 2, v: 'b' },
              ]
            : [
                { id: 2, v: 'b2' },
                { id: 3, v: 'c' },
                { id: 3, v: 'c2' },
              ],
      }),
    );
    const lake = await lakeWith({
      snap: {
        baseUrl: api.url,
        into: 'bronze.snap',
        path: '/state',
        disposition: 'replace',
        resources: { merged: { path: '/state', into: 'bronze.merged', disposition: 'merge', primaryKey: 'id' } },
      },
    });
    await runIngest(lake);
    version = 2;
    await runIngest(lake);
    expect(await rows(lake, 'SELECT id, v FROM bronze.snap ORDER BY id')).toEqual([
      { id: 2, v: 'b2' },
      { id: 3, v: 'c' },
      { id: 3, v: 'c2' },
    ]);
    expect(await rows(lake, 'SELECT id, v FROM bronze.merged ORDER BY id')).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'b2' },
      { id: 3, v: 'c2' },
    ]);
  });
});

describe('http source: resources, types', () => {
  api.route('/assets', (_req, res) =>
    json(res, {
      data: [
        { id: 'bitcoin', rank: '1' },
        { id: 'ethereum', rank: '2' },
        { id: 'tether', rank: '3' },
      ],
    }),
  );
  api.route('/assets/*', (req, res, { query }) => {
    const id = req.url!.split('/')[2]!;
    json(res, { data: [{ priceUsd: `${id.length}.5`, time: Number(query.get('start') ?? 0) }] });
  });

  it('reads a child resource for every record of its parent, with the parent fields it includes', async () => {
    const lake = await lakeWith({
      assets: {
        baseUrl: api.url,
        into: 'bronze.assets',
        path: '/assets',
        concurrency: 2,
        resources: {
          history: {
            parent: 'assets',
            path: '/assets/{id}/history',
            params: { interval: 'm1' },
            include: { asset_id: 'id' },
            into: 'bronze.history',
            columns: { priceUsd: 'DECIMAL(18,2)' },
          },
        },
      },
    });
    await runIngest(lake);
    expect(await rows(lake, 'SELECT asset_id, priceUsd FROM bronze.history ORDER BY asset_id')).toEqual([
      { asset_id: 'bitcoin', priceUsd: 7.5 },
      { asset_id: 'ethereum', priceUsd: 8.5 },
      { asset_id: 'tether', priceUsd: 6.5 },
    ]);
    expect((await rows(lake, "SELECT column_type FROM (DESCRIBE bronze.history) WHERE column_name = 'priceUsd'"))[0]!.column_type).toBe('DECIMAL(18,2)');
    const history = api.requests.filter((r) => r.path.endsWith('/history')).map((r) => r.url);
    expect(history.sort()).toEqual(['/assets/bitcoin/history?interval=m1', '/assets/ethereum/history?interval=m1', '/assets/tether/history?interval=m1']);
  });

  it('reads a child resource for every row of a lake query (a backfill of gaps)', async () => {
    const lake = await lakeWith({
      seeds: { baseUrl: api.url, into: 'bronze.seed_assets', path: '/assets' },
      gaps: {
        baseUrl: api.url,
        into: 'bronze.gap_fill',
        path: '/assets/{id}/history',
        params: { start: '{start}' },
        include: { asset_id: 'id' },
        parent: { query: "SELECT id, 1000 * CAST(rank AS INTEGER) AS start FROM bronze.seed_assets WHERE id <> 'tether'" },
      },
    });
    await runIngest(lake, ['seeds']);
    await runIngest(lake, ['gaps']);
    expect(await rows(lake, 'SELECT asset_id, time FROM bronze.gap_fill ORDER BY asset_id')).toEqual([
      { asset_id: 'bitcoin', time: 1000 },
      { asset_id: 'ethereum', time: 2000 },
    ]);
  });

  it('keeps nested objects as structs, and refuses a field whose type narrows with the field named (or sets the record aside)', async () => {
    let n: unknown = 1.5;
    let more: Record<string, unknown> = {};
    api.route('/nested', (_req, res) => json(res, { data: [{ id: 1, geo: { lat: 48.85, lon: 2.35 }, tags: ['a', 'b'], n, ...more }] }));
    const lake = await lakeWith({ nested: { baseUrl: api.url, into: 'bronze.nested', path: '/nested' } });
    await runIngest(lake);
    const types = Object.fromEntries((await rows(lake, 'DESCRIBE bronze.nested')).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({ id: 'BIGINT', geo: 'STRUCT(lat DOUBLE, lon DOUBLE)', tags: 'VARCHAR[]', n: 'DOUBLE' });
    n = 2; // an integer now: read as the table's DOUBLE
    await runIngest(lake);
    n = 'many';
    await expect(runIngest(lake)).rejects.toThrow(
      /sources\.nested: column n is VARCHAR, but bronze\.nested holds it as DOUBLE \(schemaContract\.types is 'freeze' by default\); nothing of nested committed/,
    );
    expect(await rows(lake, 'SELECT n FROM bronze.nested ORDER BY _ingested_at')).toEqual([{ n: 1.5 }, { n: 2 }]);
    // 'discard_row': the record is set aside with its reason, in the table's rejects.
    Object.assign(lake.config.sources.nested!, { schemaContract: { types: 'discard_row', columns: 'freeze' } });
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 0, rejectedRows: 1 });
    const [reject] = await rows(lake, 'SELECT column_name, reason, raw_line FROM bronze.nested_rejects');
    expect(reject).toMatchObject({
      column_name: 'n',
      reason: "column n: the value (VARCHAR) does not fit bronze.nested's DOUBLE (sources.nested.schemaContract.types is 'discard_row')",
    });
    expect(JSON.parse(String(reject!.raw_line))).toMatchObject({ id: 1, n: 'many' });
    // 'freeze' for columns: a new field refuses the poll.
    n = 3;
    more = { rating: 5 };
    await expect(runIngest(lake)).rejects.toThrow(
      /new column rating \(BIGINT\) is not in bronze\.nested \(sources\.nested\.schemaContract\.columns is 'freeze'\)/,
    );
    Object.assign(lake.config.sources.nested!, { schemaContract: { columns: 'evolve' } });
    expect((await runIngest(lake)).sources[0]!.schemaChanges).toEqual(['nested: new column rating (BIGINT)']);
  });

  it('names an unknown parent and a placeholder the parent does not have', async () => {
    const bad = await lakeWith({
      bad: { baseUrl: api.url, into: 'bronze.b', path: '/assets', resources: { kid: { parent: 'nope', path: '/x', into: 'bronze.k' } } },
    });
    await expect(runIngest(bad)).rejects.toThrow(/sources\.bad\.resources\.kid\.parent: no resource "nope" \(resources: bad, kid\)/);
    const hole = await lakeWith({
      hole: { baseUrl: api.url, into: 'bronze.h', path: '/assets', resources: { kid: { parent: 'hole', path: '/assets/{slug}/history', into: 'bronze.hk' } } },
    });
    await expect(runIngest(hole)).rejects.toThrow(
      /sources\.hole\.resources\.kid: the placeholder \{slug\} has no value in the parent's record \(fields: id, rank\)/,
    );
  });
});

describe('http source: what a hostile or careless API does', () => {
  it('commits a parent and its children together: a child failing leaves the parent cursor where it was', async () => {
    let historyDown = true;
    api.route('/fam/assets', (_req, res, { query }) => {
      const since = Number(query.get('since') ?? 0);
      json(res, {
        data: [
          { id: 'a', v: 1 },
          { id: 'b', v: 2 },
        ].filter((r) => r.v > since),
      });
    });
    api.route('/fam/history/*', (req, res) =>
      historyDown && req.url!.includes('/b') ? json(res, { error: 'gone' }, 404) : json(res, { data: [{ p: req.url!.split('/')[3] }] }),
    );
    const lake = await lakeWith({
      fam: {
        baseUrl: api.url,
        path: '/fam/assets',
        into: 'bronze.fam',
        incremental: { cursor: 'v', param: 'since' },
        resources: { hist: { parent: 'fam', path: '/fam/history/{id}', include: { asset: 'id' }, into: 'bronze.fam_hist' } },
      },
    });
    await expect(runIngest(lake)).rejects.toThrow(/resources\.hist: GET .*\/fam\/history\/b answered 404/);
    expect(await lake.tables()).toEqual([]);
    // The poll is counted; the parent's cursor did not move.
    expect((await lake.catalog.sourceStates.get('fam'))!.state).toEqual({ polls: 1, resources: {} });
    historyDown = false;
    const report = await runIngest(lake);
    expect(report.sources[0]!.rows).toBe(4);
    expect(await rows(lake, 'SELECT asset, p FROM bronze.fam_hist ORDER BY asset')).toEqual([
      { asset: 'a', p: 'a' },
      { asset: 'b', p: 'b' },
    ]);
  });

  it('follows a Link header that echoes the API key, and sends credentials to the API alone', async () => {
    const KEY = 'k3y-in-the-query';
    const other = await startTestApi();
    other.route('/elsewhere', (_req, res) => json(res, { data: [{ id: 99 }] }));
    api.route('/linked', (req, res, { query }) => {
      if (query.get('api_key') !== KEY) return json(res, { error: 'bad key' }, 401);
      const page = Number(query.get('page') ?? 1);
      // The key echoed in the next link: in the middle of the query, then last.
      const next =
        page === 1
          ? `<http://${req.headers.host}/linked?api_key=${KEY}&page=2>; rel="next"`
          : page === 2
            ? `<http://${req.headers.host}/linked?page=3&api_key=${KEY}>; rel="next"`
            : '';
      json(res, { data: page <= 3 ? [{ id: page }] : [] }, 200, next ? { link: next } : {});
    });
    const lake = await lakeWith({
      linked: { baseUrl: api.url, path: '/linked', into: 'bronze.linked', paginate: { type: 'link' }, auth: { type: 'apiKey', value: KEY, query: 'api_key' } },
    });
    await runIngest(lake);
    expect(await ids(lake, 'bronze.linked')).toEqual([1, 2, 3]);
    const raw = await rows(lake, 'SELECT url, CAST(headers AS VARCHAR) AS headers FROM bronze.linked_raw ORDER BY page');
    expect(JSON.stringify(raw)).not.toContain(KEY);

    api.route('/up-then-away', (_req, res) => json(res, { data: [{ id: 1 }], next: `${other.url}/elsewhere` }));
    const leaky = await lakeWith({
      leaky: {
        baseUrl: api.url,
        path: '/up-then-away',
        into: 'bronze.leaky',
        paginate: { type: 'next', next: 'next' },
        auth: { type: 'bearer', token: 'tok-for-api-only' },
      },
    });
    await runIngest(leaky);
    expect(await ids(leaky, 'bronze.leaky')).toEqual([1, 99]);
    expect(other.requests.length).toBeGreaterThan(0);
    expect(other.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('does not send credentials on when a redirect leaves the API', async () => {
    const other = await startTestApi();
    other.route('/landing', (_req, res) => json(res, { data: [{ id: 5 }] }));
    api.route('/moved', (_req, res) => {
      res.writeHead(302, { location: `${other.url}/landing` });
      res.end();
    });
    const lake = await lakeWith({
      moved: { baseUrl: api.url, path: '/moved', into: 'bronze.moved', auth: { type: 'apiKey', value: 'hdr-key-1234', header: 'X-API-Key' } },
    });
    await runIngest(lake);
    expect(await ids(lake, 'bronze.moved')).toEqual([5]);
    expect(other.requests[0]!.headers['x-api-key']).toBeUndefined();
    expect(api.requests.find((r) => r.path === '/moved')!.headers['x-api-key']).toBe('hdr-key-1234');
  });

  it('masks a secret the API echoes in a body: in the raw table, the quarantine and its reason', async () => {
    const TOKEN = 'echoed-token-5678';
    api.route('/echo', (req, res) => json(res, { data: [{ id: 1, seen: req.headers.authorization }] }));
    api.route('/echo-error', (req, res) => json(res, { error: `invalid token ${String(req.headers.authorization).slice(7)}` }));
    const lake = await lakeWith({
      echo: {
        baseUrl: api.url,
        path: '/echo',
        into: 'bronze.echo',
        auth: { type: 'bearer', token: TOKEN },
        resources: { bad: { path: '/echo-error', select: 'data', into: 'bronze.echo_bad' } },
      },
    });
    const report = await runIngest(lake);
    expect(report.sources[0]!.quarantined[0]!.reason).toContain('invalid token ***');
    const raw = await rows(lake, 'SELECT body FROM bronze.echo_raw');
    expect(raw.length).toBe(1);
    expect(JSON.stringify(raw)).not.toContain(TOKEN);
    const [entry] = await lake.catalog.quarantine.list({ source: 'echo' });
    expect(Buffer.from((await lake.storage.get(entry!.storedPath!))!).toString()).toBe('{"error":"invalid token ***"}');
    expect(JSON.stringify(entry)).not.toContain(TOKEN);
  });

  it('keeps integers beyond 2^53 exact, in records, placeholders and cursors', async () => {
    const big = '1234567890123456789';
    api.route('/snowflakes', (_req, res, { query }) => {
      const text = query.get('since') ? '{"data":[]}' : `{"data":[{"id":${big},"price":1.2345678901234567,"n":12}]}`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    });
    api.route('/snowflakes/*', (req, res) => json(res, { data: [{ url: req.url }] }));
    const lake = await lakeWith({
      snow: {
        baseUrl: api.url,
        path: '/snowflakes',
        into: 'bronze.snow',
        incremental: { cursor: 'id', param: 'since' },
        resources: { kids: { parent: 'snow', path: '/snowflakes/{id}', include: { parent_id: 'id' }, into: 'bronze.snow_kids' } },
      },
    });
    const first = await runIngest(lake);
    expect(first.sources[0]!.quarantined).toEqual([]);
    expect((await lake.query('SELECT CAST(id AS VARCHAR) AS id, price FROM bronze.snow')).rows).toEqual([{ id: big, price: 1.2345678901234567 }]);
    expect((await lake.query('SELECT url, CAST(parent_id AS VARCHAR) AS parent_id FROM bronze.snow_kids')).rows).toEqual([
      { url: `/snowflakes/${big}`, parent_id: big },
    ]);
    await runIngest(lake);
    expect(api.requests.filter((r) => r.path === '/snowflakes').at(-1)!.url).toBe(`/snowflakes?since=${big}`);
  });

  it('fills a dotted placeholder from the parent; a parent record without the field fails its family only', async () => {
    let withNull = true;
    api.route('/repos', (_req, res) => json(res, { data: [{ name: 'x', owner: { login: 'ann' } }, ...(withNull ? [{ name: 'y', owner: null }] : [])] }));
    api.route('/users/*', (req, res) => json(res, { data: [{ login: req.url!.split('/')[2] }] }));
    const lake = await lakeWith({
      repos: {
        baseUrl: api.url,
        path: '/repos',
        into: 'bronze.repos',
        resources: {
          users: { parent: 'repos', path: '/users/{owner.login}', include: { repo: 'name' }, into: 'bronze.users' },
          other: { path: '/up', into: 'bronze.other' },
        },
      },
    });
    await expect(runIngest(lake)).rejects.toThrow(
      /sources\.repos\.resources\.users: the placeholder \{owner\.login\} has no value in the parent's record .*\(committed: other\)/,
    );
    expect(await ids(lake, 'bronze.other')).toEqual([1]);
    withNull = false;
    await runIngest(lake);
    expect(await rows(lake, 'SELECT login, repo FROM bronze.users')).toEqual([{ login: 'ann', repo: 'x' }]);
  });

  it('replace with an empty answer empties the table and keeps its columns', async () => {
    let empty = false;
    api.route('/catalog', (_req, res) => json(res, { data: empty ? [] : [{ sku: 'A', price: 2.5 }] }));
    const lake = await lakeWith({ cat: { baseUrl: api.url, path: '/catalog', into: 'bronze.cat', disposition: 'replace' } });
    await runIngest(lake);
    empty = true;
    await runIngest(lake);
    expect((await rows(lake, 'SELECT count(*) AS n FROM bronze.cat'))[0]!.n).toBe(0);
    expect((await rows(lake, 'DESCRIBE bronze.cat')).map((r) => [r.column_name, r.column_type])).toEqual([
      ['sku', 'VARCHAR'],
      ['price', 'DOUBLE'],
      ['_ingested_at', 'TIMESTAMP WITH TIME ZONE'],
      ['_source', 'VARCHAR'],
      ['_batch_id', 'VARCHAR'],
    ]);
  });

  it('files one quarantine entry per resource for the same bad page; an incremental resource past maxPages fails', async () => {
    api.route('/html-b', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const twice = await lakeWith({
      twice: { baseUrl: api.url, path: '/html-b', into: 'bronze.t1', resources: { again: { path: '/html-b', into: 'bronze.t2' } } },
    });
    await runIngest(twice);
    expect((await twice.catalog.quarantine.list({ source: 'twice' })).map((e) => e.table)).toEqual(['bronze.t1', 'bronze.t2']);
    api.route('/many', (_req, res, { query }) => json(res, { data: [{ id: Number(query.get('page')) }] }));
    const many = await lakeWith({
      many: { baseUrl: api.url, path: '/many', into: 'bronze.many', paginate: { type: 'page' }, maxPages: 3, incremental: { cursor: 'id', param: 'since' } },
    });
    await expect(runIngest(many)).rejects.toThrow(/sources\.many: more than maxPages \(3\) pages; nothing of many committed/);
    expect(await many.tables()).toEqual([]);
  });

  it('refuses credentials in the base URL', async () => {
    await expect(lakeWith({ creds: { baseUrl: 'https://me:pw@api.example.com', into: 'bronze.c' } })).rejects.toThrow(
      /sources\.creds\.baseUrl: put credentials in auth \(from \$\{ENV\}\), not in the URL/,
    );
  });
});

describe('probes', () => {
  it('fail with what they got, secrets masked; pass when the system answers', async () => {
    api.route('/probe-ok', (_req, res) => json(res, { ok: true }));
    const { lake } = await openTestLake({
      probes: {
        creds: { url: 'http://me:s3cretpw@127.0.0.1:9/x', timeout: '2s' },
        key: { url: `${api.url}/nothing-here?api_key=k-123456`, timeout: '2s' },
        up: { url: `${api.url}/probe-ok` },
        db: { url: PG_URL },
      },
    });
    const ctx = { runId: 'r', partition: undefined, logger: createLogger('test', { level: 'silent' }), signal: new AbortController().signal };
    const creds = await probeAssets.execute(lake, 'creds', ctx).catch((e: Error) => e);
    expect(String(creds)).toMatch(/probes\.creds: http:\/\/me:\*\*\*@127\.0\.0\.1:9\/x is not available/);
    expect(String(creds)).not.toContain('s3cretpw');
    const key = await probeAssets.execute(lake, 'key', ctx).catch((e: Error) => e);
    expect(String(key)).toMatch(/probes\.key: http:\/\/127\.0\.0\.1:\d+\/nothing-here\?api_key=\*\*\* is not available: answered 404/);
    await expect(probeAssets.execute(lake, 'up', ctx)).resolves.toEqual({});
    await expect(probeAssets.execute(lake, 'db', ctx)).resolves.toEqual({});
  });
});

describe('http source: lookups', () => {
  it('asks only for the keys the lake uses and the table lacks, in batches, merges them, and names those the API does not know', async () => {
    const countries: Record<string, { cca2: string; region: string; subregion: string; currencies: Record<string, { name: string }> }> = {
      FR: { cca2: 'FR', region: 'Europe', subregion: 'Western Europe', currencies: { EUR: { name: 'Euro' } } },
      DE: { cca2: 'DE', region: 'Europe', subregion: 'Western Europe', currencies: { EUR: { name: 'Euro' } } },
      IT: { cca2: 'IT', region: 'Europe', subregion: 'Southern Europe', currencies: { EUR: { name: 'Euro' } } },
      US: { cca2: 'US', region: 'Americas', subregion: 'North America', currencies: { USD: { name: 'United States dollar' } } },
    };
    api.route('/v3.1/alpha', (_req, res, { query }) => {
      const codes = (query.get('codes') ?? '').split(',');
      const found = codes.map((c) => countries[c]).filter(Boolean);
      if (found.length === 0) return json(res, { status: 404, message: 'Not Found' }, 404);
      json(res, found);
    });
    const { lake } = await openTestLake({
      sources: {
        countries: http({
          baseUrl: api.url,
          path: '/v3.1/alpha',
          params: { codes: '{keys}', fields: 'cca2,region,subregion,currencies' },
          lookup: { keys: 'SELECT pays FROM bronze.factures', key: 'cca2', batch: 2, ttl: '7d' },
          columns: { currencies: 'JSON' },
          into: 'bronze.countries',
        }),
      },
    });
    // No invoices yet: nothing asked, a warning.
    const empty = await runIngest(lake);
    expect(empty.sources[0]!.warnings).toEqual([expect.stringMatching(/lookup\.keys: .*bronze\.factures does not exist.*: nothing looked up/)]);
    await lake.write('bronze.factures', "SELECT * FROM (VALUES ('FR'), ('DE'), ('FR'), ('XX'), (NULL)) AS t(pays)", { mode: 'append' });
    const first = await runIngest(lake);
    expect(first.sources[0]!.warnings).toEqual(['countries: the API has no record for 1 key(s) looked up: XX']);
    const asked = () => api.requests.filter((r) => r.path === '/v3.1/alpha').map((r) => new URL(r.url, 'http://x').searchParams.get('codes'));
    expect(asked()).toEqual(['DE,FR', 'XX']);
    await lake.write('bronze.factures', "SELECT * FROM (VALUES ('IT'), ('US')) AS t(pays)", { mode: 'append' });
    await runIngest(lake);
    expect(asked()).toEqual(['DE,FR', 'XX', 'IT,US', 'XX']);
    expect(await rows(lake, `SELECT cca2, region, json_keys(currencies)[1] AS currency FROM bronze.countries ORDER BY cca2`)).toEqual([
      { cca2: 'DE', region: 'Europe', currency: 'EUR' },
      { cca2: 'FR', region: 'Europe', currency: 'EUR' },
      { cca2: 'IT', region: 'Europe', currency: 'EUR' },
      { cca2: 'US', region: 'Americas', currency: 'USD' },
    ]);
    // Past its ttl, a key is asked again (and merged: still one row per key).
    const { lake: stale } = await openTestLake({
      sources: {
        c: http({
          baseUrl: api.url,
          path: '/v3.1/alpha',
          params: { codes: '{keys}' },
          lookup: { keys: "SELECT 'FR'", key: 'cca2', ttl: '1s' },
          columns: { currencies: 'JSON' },
          into: 'bronze.c',
        }),
      },
    });
    const before = asked().length;
    await runIngest(stale);
    await runIngest(stale);
    expect(asked().length).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 1100));
    await runIngest(stale);
    expect(asked().slice(before)).toEqual(['FR', 'FR']);
    expect((await rows(stale, 'SELECT count(*) AS n FROM bronze.c'))[0]!.n).toBe(1);
  });
});

describe('http source: lookup keys', () => {
  it('asks a decimal-written integer key as the integer, once, and names keys that hold the separator', async () => {
    api.route('/things', (_req, res, { query }) =>
      json(
        res,
        (query.get('ids') ?? '').split(',').map((id) => ({ id: Number(id), name: `thing ${id}` })),
      ),
    );
    const { lake } = await openTestLake({
      sources: {
        things: http({
          baseUrl: api.url,
          path: '/things',
          params: { ids: '{keys}' },
          lookup: { keys: "SELECT * FROM (VALUES ('7.00'), ('7'), ('a,b')) AS t(k)", key: 'id' },
          into: 'bronze.things',
        }),
      },
    });
    const first = await runIngest(lake);
    expect(first.sources[0]!.warnings).toEqual([expect.stringMatching(/1 key\(s\) hold the separator "," and cannot be asked: a,b/)]);
    await runIngest(lake);
    expect(api.requests.filter((r) => r.path === '/things').map((r) => r.url)).toEqual(['/things?ids=7']);
    expect(await rows(lake, 'SELECT id, name FROM bronze.things')).toEqual([{ id: 7, name: 'thing 7' }]);
  });
});
