import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runDemo } from '../src/demo/demo.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { runModels } from '../src/models/run.js';
import { projectWorker } from '../src/orchestration/notify.js';
import { Orchestration } from '../src/orchestration/orchestration.js';
import { produceFile } from '../src/produce/produce.js';
import { buildServer } from '../src/serve/server.js';
import { runStream } from '../src/streams/worker.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
import { createLogger } from '../src/util/logger.js';
import { ROOT, run, tempDir, TSX } from './support/helpers.js';

// ajv-formats is CommonJS: its default export is the function under ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;

type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
type Operation = { operationId: string; parameters?: Parameter[]; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
type Parameter = {
  name: string;
  in: 'query' | 'path';
  required?: boolean;
  schema: { type?: string | string[]; enum?: unknown[]; anyOf?: { enum?: unknown[] }[] };
};

interface Served {
  name: string;
  app: FastifyInstance;
  lake: Lake;
  doc: Doc;
  /** Path parameter values that exist: a run id, and per path a key of a real row. */
  runId?: string;
}

const servers: Served[] = [];

/** Each example, built and served as its README says, with a job run and a stream run where it has them. */
beforeAll(async () => {
  const base = tempDir('trib-openapi-');

  const retail = path.join(base, 'retail');
  await runDemo(retail, { seed: 5, rows: 800 });
  const retailLake = await Lake.open(await loadConfig(retail));
  // A job run, so that the orchestration paths have runs, tasks and attempts to describe.
  const orch = await Orchestration.open(retailLake);
  const worker = projectWorker(retailLake.config, orch.queue, createLogger('test', { level: 'silent' }), { concurrency: 2 });
  worker.start();
  const runId = await orch.launch('nightly');
  for (let i = 0; i < 600; i++) {
    const status = (await orch.lake.catalog.runs.get(runId))?.status;
    if (status && !['queued', 'running'].includes(status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await worker.stop(0);
  servers.push({ name: 'retail', ...(await serve(retailLake, orch)), lake: retailLake, runId });

  const onlineRetail = path.join(base, 'online-retail');
  copyProjectFiles(path.join(ROOT, 'examples/online-retail'), onlineRetail);
  const orLake = await Lake.open(await loadConfig(onlineRetail));
  await runIngest(orLake);
  await runModels(orLake, {});
  servers.push({ name: 'online-retail', ...(await serve(orLake)), lake: orLake });

  const live = path.join(base, 'ventes-live');
  copyProjectFiles(path.join(ROOT, 'examples/ventes-live'), live);
  const liveConfig = await loadConfig(live);
  const log = new EmbeddedLog(liveConfig.log.kind === 'embedded' ? liveConfig.log.path : '');
  await log.createTopic('ventes-temps-reel', 3);
  await produceFile(log, 'ventes-temps-reel', path.join(ROOT, 'examples/ventes-live/events.ndjson'));
  await runStream(liveConfig, 'ventes-live', { availableNow: true });
  const liveLake = await Lake.open(liveConfig);
  servers.push({ name: 'ventes-live', ...(await serve(liveLake)), lake: liveLake });
}, 240_000);

afterAll(async () => {
  for (const s of servers) {
    await s.app.close();
    await s.lake.close();
  }
});

async function serve(lake: Lake, orchestration?: Orchestration): Promise<{ app: FastifyInstance; doc: Doc }> {
  const { app } = await buildServer(lake, { orchestration });
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
  return { app, doc };
}

/** ajv over the whole document, so that `#/components/...` references resolve; one validator per response schema. */
function validators(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi');
  return (pathName: string, method: string, status: string) => {
    const pointer = ['paths', pathName, method, 'responses', status, 'content', 'application/json', 'schema']
      .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const validate = ajv.getSchema(`openapi#/${pointer}`);
    if (!validate) throw new Error(`${method} ${pathName}: no schema for ${status}`);
    return validate;
  };
}

/** A value that exists for each path parameter, read from the data itself. */
async function pathValues(s: Served, pathName: string): Promise<Record<string, string> | undefined> {
  const values: Record<string, string> = {};
  if (pathName.includes('{runId}')) values.runId = s.runId ?? 'no-run';
  if (pathName.includes('{layer}')) {
    // A served table with a key for the by-key path, with measures for the aggregations, or any.
    const tables = Object.entries(s.lake.config.serve.tables ?? {});
    const fit = tables.find(([, t]) => (pathName.endsWith('{key}') ? t.key : pathName.startsWith('/api/v1/aggregations') ? t.measures?.length : true));
    if (!fit) return undefined;
    Object.assign(values, { layer: fit[0].split('.')[0], table: fit[0].split('.')[1] });
  }
  const keyed =
    /^\/api\/v1\/tables\/(\w+)\/(\w+)\/\{key\}$/.exec(pathName) ??
    (pathName === '/api/v1/tables/{layer}/{table}/{key}' ? [pathName, values.layer, values.table] : undefined);
  if (keyed) {
    const table = `${keyed[1]}.${keyed[2]}`;
    const key = [s.lake.config.serve.tables?.[table]?.key ?? []].flat();
    const row = (await s.app.inject({ url: `/api/v1/tables/${keyed[1]}/${keyed[2]}?limit=1` })).json().rows[0];
    values.key = key.map((k) => String(row[k])).join(',');
  }
  const endpoint = /^\/api\/v1\/(.+)\/\{id\}$/.exec(pathName);
  if (endpoint) {
    const spec = s.lake.config.serve.endpoints?.[endpoint[1]!];
    if (spec?.kind === 'list' && spec.key) values.id = String((await s.app.inject({ url: `/api/v1/${endpoint[1]}?limit=1` })).json().rows[0][spec.key]);
  }
  return values;
}

function fill(pathName: string, values: Record<string, string>): string {
  return pathName.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? 'x'));
}

/** Every value of the enum of a required parameter (a string enum or an array of one). */
function choices(p: Parameter): string[] {
  const values = p.schema.enum ?? p.schema.anyOf?.find((s) => s.enum)?.enum ?? [];
  return values.map(String);
}

function requiredQueries(operation: Operation, generic: string | undefined): string[] {
  const required = (operation.parameters ?? []).filter((p) => p.in === 'query' && p.required);
  if (!required.length) return [''];
  let queries = [''];
  for (const p of required) {
    const options = choices(p).length ? choices(p) : p.name === 'measure' && generic ? [generic] : ['x'];
    queries = queries.flatMap((q) => options.map((o) => `${q}&${encodeURIComponent(p.name)}=${encodeURIComponent(o)}`));
  }
  return queries.map((q) => q.slice(1));
}

describe('OpenAPI document of each example', () => {
  it('is a valid OpenAPI 3.1 document: every operation has an operationId, a typed 200 and its error responses', async () => {
    for (const s of servers) {
      const result = await new Validator().validate(s.doc);
      expect(result.errors ?? [], `${s.name}: ${JSON.stringify(result.errors)}`).toEqual([]);
      const ids = new Set<string>();
      for (const [pathName, methods] of Object.entries(s.doc.paths)) {
        for (const [method, operation] of Object.entries(methods)) {
          expect(operation.operationId, `${s.name} ${method} ${pathName}`).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
          expect(ids.has(operation.operationId), `${s.name}: duplicate operationId ${operation.operationId}`).toBe(false);
          ids.add(operation.operationId);
          expect(operation.responses['200']?.content?.['application/json']?.schema, `${s.name} ${method} ${pathName}: 200 schema`).toBeDefined();
          for (const code of ['404', '429', '500'])
            if (pathName.startsWith('/api/v1/tables/')) expect(operation.responses[code], `${s.name} ${pathName} ${code}`).toBeDefined();
          if (operation.parameters?.length) expect(operation.responses['400'], `${s.name} ${pathName} 400`).toBeDefined();
        }
      }
    }
    const retail = servers.find((s) => s.name === 'retail')!;
    // The interactive docs show the same document.
    expect((await retail.app.inject({ url: '/docs/json' })).json().paths).toEqual(retail.doc.paths);
    // The issue's example: typed rows with required columns, and every filter parameter of the table.
    const clients = retail.doc.components.schemas['gold.dim_clients'] as { required: string[]; properties: Record<string, { type: unknown }> };
    expect(clients.required).toEqual(expect.arrayContaining(['id_client', 'pays', 'total_ca']));
    expect(clients.properties.pays!.type).toEqual(['string', 'null']);
    const list = retail.doc.paths['/api/v1/tables/gold/dim_clients']!.get!;
    expect(list.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'pays', 'pays.in', 'total_ca.gte', 'total_ca.lt', 'sort', 'fields', 'cursor']),
    );
  });

  it('describes every response of every path: each validates against its declared schema (ajv), errors included', async () => {
    let checked = 0;
    for (const s of servers) {
      const schemaOf = validators(s.doc);
      const generic = Object.entries(s.lake.config.serve.tables ?? {}).find(([, t]) => t.measures?.length);
      for (const [pathName, methods] of Object.entries(s.doc.paths)) {
        const operation = methods.get;
        if (!operation || (pathName.includes('{runId}') && !s.runId)) continue;
        const values = await pathValues(s, pathName);
        if (!values) continue; // e.g. no served table of this example declares a key
        const urls = requiredQueries(operation, generic?.[1].measures?.[0]).map((q) => `${fill(pathName, values)}${q ? `?${q}` : ''}`);
        // Every filter parameter of a typed table path, with a value from a real row.
        const table = /^\/api\/v1\/(tables|aggregations)\/(\w+)\/(\w+)$/.exec(pathName);
        if (table) {
          const row = (await s.app.inject({ url: `/api/v1/tables/${table[2]}/${table[3]}?limit=1` })).json().rows[0] as Record<string, unknown>;
          for (const p of operation.parameters ?? []) {
            const column = p.name.replace(/\.(in|gt|gte|lt|lte)$/, '');
            if (p.required || !(column in row) || row[column] === null || typeof row[column] === 'object') continue;
            urls.push(`${urls[0]}${urls[0]!.includes('?') ? '&' : '?'}${encodeURIComponent(p.name)}=${encodeURIComponent(String(row[column]))}`);
          }
        }
        for (const url of urls) {
          const response = await s.app.inject({ method: 'GET', url });
          const validate = schemaOf(pathName, 'get', String(response.statusCode));
          expect(response.statusCode, `${s.name} GET ${url}: ${response.body.slice(0, 300)}`).toBe(200);
          const body = response.json();
          expect(validate(body), `${s.name} GET ${url}: ${JSON.stringify(validate.errors)}`).toBe(true);
          checked++;
        }
        // Its declared errors: a bad parameter, an unknown row.
        const bad = (operation.parameters ?? []).find((p) => p.in === 'query' && (p.name === 'limit' || p.required));
        if (bad) {
          const response = await s.app.inject({ url: `${fill(pathName, values)}?${bad.name === 'limit' ? 'limit=0' : ''}` });
          expect(response.statusCode, `${s.name} ${pathName} bad ${bad.name}`).toBe(400);
          const validate = schemaOf(pathName, 'get', '400');
          expect(validate(response.json()), JSON.stringify(validate.errors)).toBe(true);
        }
        if (pathName.endsWith('/{key}') || pathName.endsWith('/{id}') || pathName.endsWith('/{runId}')) {
          const response = await s.app.inject({ url: fill(pathName, { ...values, key: 'none-such', id: 'none-such', runId: 'none-such' }) });
          expect([400, 404], `${s.name} ${pathName} unknown`).toContain(response.statusCode);
          const validate = schemaOf(pathName, 'get', String(response.statusCode));
          expect(validate(response.json()), JSON.stringify(validate.errors)).toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });
});

describe('a generated client', () => {
  it('openapi-typescript types type-check a filtered call under tsc --strict, refuse unknown parameters, and the call works', async () => {
    const s = servers.find((x) => x.name === 'retail')!;
    const dir = tempDir('trib-client-');
    writeFileSync(path.join(dir, 'api.d.ts'), astToString(await openapiTS(s.doc as never)));
    // The call of the issue, on examples/online-retail's generic table path.
    writeFileSync(path.join(dir, 'online-retail.d.ts'), astToString(await openapiTS(servers.find((x) => x.name === 'online-retail')!.doc as never)));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          skipLibCheck: false,
          types: ['node'],
          noUncheckedIndexedAccess: true,
        },
        include: ['api.d.ts', 'online-retail.d.ts', 'src/*.ts'],
      }),
    );
    writeFileSync(
      path.join(dir, 'src/client.ts'),
      `
import createClient from 'openapi-fetch';
import type { components, paths } from '../api.js';

type Client = components['schemas']['gold.dim_clients'];
const client = createClient<paths>({ baseUrl: process.env.BASE_URL });

const { data, error } = await client.GET('/api/v1/tables/gold/dim_clients', { params: { query: { limit: 5, pays: 'France', 'total_ca.gte': 10 } } });
if (error) throw new Error(error.message);
const first: Client | undefined = data.rows[0];
const country: string | null | undefined = first?.pays;
const total: number = data.total;
const cursor: string | null = data.next_cursor;

const one = await client.GET('/api/v1/clients/{id}', { params: { path: { id: String(first?.id_client) } } });
const byId: string | number | null | undefined = one.data?.row.id_client;

const missing = await client.GET('/api/v1/tables/gold/dim_clients/{key}', { params: { path: { key: '987654321' } } });
const code: 'bad_request' | 'unauthorized' | 'not_found' | 'conflict' | 'too_many_requests' | 'payload_too_large' | 'unavailable' | 'internal' | undefined =
  missing.error?.error;

const agg = await client.GET('/api/v1/aggregations/gold/fact_ventes', { params: { query: { measure: ['sum(montant)', 'count(*)'], by: 'segment', period: 'month' } } });
const period: string | undefined = agg.data?.rows[0]?.period;

// @ts-expect-error: not a column of gold.dim_clients
await client.GET('/api/v1/tables/gold/dim_clients', { params: { query: { nope: 'x' } } });
// @ts-expect-error: a measure that is not declared
await client.GET('/api/v1/aggregations/gold/fact_ventes', { params: { query: { measure: 'max(montant)' } } });

console.log(JSON.stringify({ rows: data.rows.length, country, total, cursor: cursor !== undefined, byId, code, period }));
`,
    );
    writeFileSync(
      path.join(dir, 'src/online-retail.ts'),
      `
import createClient from 'openapi-fetch';
import type { paths } from '../online-retail.js';

const client = createClient<paths>({ baseUrl: process.env.BASE_URL });
const { data } = await client.GET('/api/v1/tables/gold/retail_revenue_by_country', { params: { query: { limit: 5, country: 'France' } } });
const revenue: number | string | null | undefined = data?.rows[0]?.revenue;
export { revenue };
`,
    );
    const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir]);
    expect(tsc.stdout + tsc.stderr, 'tsc --strict').toBe('');
    expect(tsc.code).toBe(0);

    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const address = s.app.server.address() as { port: number };
    const result = await run(process.execPath, ['--import', TSX, path.join(dir, 'src/client.ts')], {
      env: { ...process.env, BASE_URL: `http://127.0.0.1:${address.port}` },
      cwd: dir,
    });
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(out.country).toBe('France');
    expect(out).toMatchObject({ code: 'not_found', cursor: true });
    expect(Number(out.rows)).toBeGreaterThan(0);
    expect(out.byId).toBeDefined();
    expect(String(out.period)).toMatch(/^\d{4}-\d{2}-01$/);
  });
});
