import { createHash, timingSafeEqual } from 'node:crypto';
import { SchemaRegistry } from '../registry/registry.js';
import { registryRoutes } from '../registry/routes.js';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Type } from 'typebox';
import { HTTP_STATUSES, TributaryError } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { parseTableName } from '../lake/table-name.js';
import { NotFound, type ServeContext } from './context.js';
import { LiveTables } from './live-tables.js';
import { Reader } from './reader.js';
import { ResponseCache } from './response-cache.js';
import { dashboardApi, dashboardAssets } from './routes/dashboard.js';
import { orchestrationRoutes } from './routes/orchestration.js';
import { Orchestration } from '../orchestration/orchestration.js';
import { checkEndpointTables, endpointRoutes } from './routes/endpoints.js';
import { tableRoutes } from './routes/tables.js';
import { BadRequest } from './table-query.js';
import { VERSION } from '../util/version.js';
import { tableContracts } from './contracts.js';
import { OpenApiDocument } from './openapi.js';
import { obj, oneOf, text, typed } from './schema-parts.js';
import { Metrics } from '../monitoring/metrics.js';
import type { Logger } from '../util/logger.js';

/**
 * The HTTP server: generic table API, declared endpoints, OpenAPI at /openapi.json with docs at /docs, the dashboard
 * at /, /health, and Prometheus metrics at /metrics. Built as Fastify plugins; every route validates its input against its schema.
 */
export async function buildServer(
  lake: Lake,
  options: { logger?: Logger; orchestration?: Orchestration } = {},
): Promise<{ app: FastifyInstance; ctx: ServeContext }> {
  const settings = lake.config.serve;
  // Runs, schedules and the asset graph are served by `serve` too (read from the catalog), not only by `dev`.
  const orchestration = options.orchestration ?? (await Orchestration.open(lake));
  const live = new LiveTables(lake, settings.expose ?? ['gold.*'], settings.memoryRows);
  await live.refresh();
  const reader = await Reader.open(lake.engine);
  const ctx: ServeContext = {
    lake,
    settings,
    live,
    reader,
    cache: new ResponseCache(),
    table(layer, table) {
      const name = `${layer}.${table}`;
      const found = live.isExposed(name) ? live.get(name) : undefined;
      if (!found)
        throw new NotFound(
          `table ${name} is not served (exposed tables: ${
            live
              .list()
              .map((t) => t.name)
              .join(', ') || 'none'
          })`,
        );
      return found;
    },
    served: (name) => settings.tables?.[name] ?? {},
  };
  checkEndpointTables(ctx);
  for (const name of Object.keys(settings.tables ?? {})) parseTableName(name, 'serve.tables');

  const app = Fastify({
    // Errors and lifecycle only: a line per request would cost more than serving a cached KPI.
    loggerInstance: (options.logger ?? pino({ enabled: false })) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // Query strings may repeat a parameter (?measure=a&measure=b); numbers are coerced for the schemas.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  });
  // Responses are written as they are: response schemas document them (and tests validate responses against them),
  // but never drop a property or coerce a value the way a schema-compiled serializer would.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((error: Error & { validation?: unknown; validationContext?: string; statusCode?: number; instancePath?: string }, _request, reply) => {
    if (error.validation) {
      const detail = (error.validation as { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string } }[])[0];
      const parameter =
        detail?.params?.additionalProperty ??
        detail?.params?.missingProperty ??
        (detail?.instancePath?.replace(/^\//, '') || error.validationContext || 'request');
      const message = detail?.params?.additionalProperty ? `unknown parameter "${detail.params.additionalProperty}"` : error.message;
      return reply.code(400).send({ error: 'bad_request', parameter, message });
    }
    // A value DuckDB could not convert to the column's type (checks in table-query catch most before this).
    if (/Conversion Error|Could not convert/i.test(error.message))
      return reply.code(400).send({ error: 'bad_request', message: 'a parameter value does not fit its column type' });
    if (error.statusCode === 429) return reply.code(429).send({ error: 'too_many_requests', message: error.message });
    if (error.statusCode === 413) return reply.code(413).send({ error: 'payload_too_large', message: error.message });
    if (error instanceof BadRequest) return reply.code(400).send({ error: 'bad_request', parameter: error.parameter, message: error.message });
    if (error instanceof NotFound) return reply.code(404).send({ error: 'not_found', message: error.message });
    // Other failures a user can act on: the status their category maps to (errors.ts), never a stack trace.
    if (error instanceof TributaryError && error.category !== 'failed' && error.category !== 'invalid_config') {
      const status = HTTP_STATUSES[error.category];
      const code = ({ 400: 'bad_request', 404: 'not_found', 409: 'conflict', 503: 'unavailable' } as const)[status as 400 | 404 | 409 | 503];
      return reply.code(status).send({ error: code, message: error.message });
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
      return reply.code(error.statusCode).send({ error: 'bad_request', message: error.message });
    // Never a stack trace or SQL text in a response: the log has them.
    reply.log.error(error);
    return reply.code(500).send({ error: 'internal', message: 'internal error; see the server log' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }));

  // Security: rate limit per client first (onRequest), CORS only when configured, then bearer tokens on the data
  // routes (see bearerAuth below). Public without a token: /health, the dashboard's and docs' static pages, the API
  // description, and CORS preflights.
  const tokens = (settings.auth?.tokens ?? []).filter(Boolean).map(digest);
  // Standard headers on every response: no MIME sniffing, no referrer to other sites, never framed, and a CSP that
  // allows only the server's own scripts (the dashboard and /docs load no inline script and nothing from a CDN).
  // HSTS and upgrade-insecure-requests are left to a TLS-terminating proxy: the server itself speaks plain HTTP.
  await app.register(helmet, {
    global: true,
    hsts: false,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(rateLimit, {
    max: settings.rateLimit?.max ?? 60_000, // per client and window: 1,000 requests/s sustained
    timeWindow: (settings.rateLimit?.windowSeconds ?? 60) * 1000,
    allowList: (request) => request.url === '/health',
  });
  if (settings.cors?.origins.length) await app.register(cors, { origin: settings.cors.origins });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `${lake.config.name} — Tributary API`,
        version: VERSION,
        description: 'Tables of the lake at their current snapshot; every response names the snapshot it was read from.',
      },
      ...(tokens.length ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } } : {}),
    },
  });
  // The document adds what only the data knows (a typed path per served table) to the routes' own schemas.
  const contracts = tableContracts(lake);
  const notNull = (table: string) => {
    // A contract's non-nullable columns hold values: ingestion and decoding refuse the rows that would not.
    const contracted = (contracts.get(table) ?? []).filter((c) => !c.nullable).map((c) => c.name);
    if (orchestration.graph.assets.get(table)?.kind !== 'model') return new Set<string>(contracted);
    // A model's snapshot is published only when its blocking checks pass: a `not_null` check guarantees a value.
    return new Set([
      ...contracted,
      ...(lake.config.checks[table] ?? [])
        .filter((c) => c.kind === 'not_null' && (c.severity ?? 'error') === 'error')
        .map((c) => (c as { column: string }).column),
    ]);
  };
  const openapi = new OpenApiDocument(app, ctx, { notNull, contract: (table) => contracts.get(table) });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiHooks: { preHandler: async () => void (await openapi.get()) },
    transformSpecification: () => openapi.current(),
    transformSpecificationClone: false,
  });

  // Open to all: with auth on, it says only whether the server is up, not what it serves.
  const health = Type.Object(
    {
      status: oneOf(['ok', 'degraded']),
      tables: Type.Optional(Type.Integer({ description: 'tables served (without auth only)' })),
      snapshots: Type.Optional(
        Type.Unsafe<Record<string, number>>({
          type: 'object',
          additionalProperties: { type: 'integer' },
          description: 'snapshot served per table (without auth only)',
        }),
      ),
      errors: Type.Optional(Type.Array(obj({ table: text, error: text }))),
    },
    { additionalProperties: false },
  );
  typed(app).get(
    '/health',
    { schema: { tags: ['health'], operationId: 'get_health', summary: 'Liveness and what is served', response: { 200: health } } },
    async () => {
      const status = live.errors().length ? ('degraded' as const) : ('ok' as const);
      return tokens.length
        ? { status }
        : {
            status,
            tables: live.list().length,
            snapshots: Object.fromEntries(live.list().map((t) => [t.name, t.snapshotId])),
            errors: live.errors(),
          };
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => openapi.get());

  // The dashboard's static pages hold no data: public (the browser app asks for a token when the API answers 401).
  await app.register(async (ui) => dashboardAssets(ui));

  const metrics = new Metrics(lake, orchestration);
  metrics.instrument(app);
  // Everything with data lives in one encapsulated context, behind the bearer tokens when they are set (Fastify's
  // plugin encapsulation: the hook applies to the routes registered inside, and nothing outside).
  await app.register(async (api) => {
    if (tokens.length) await api.register(bearerAuth, { tokens });
    // Prometheus sends the token with `authorization` (bearer_token in its scrape config).
    api.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
    await api.register(async (a) => tableRoutes(a, ctx));
    await api.register(async (a) => endpointRoutes(a, ctx));
    await api.register(async (a) => dashboardApi(a, ctx));
    await api.register(async (a) => orchestrationRoutes(a, orchestration));
    // The schema registry (Confluent's API) of the catalog: base URL http://<host>:<port>/registry for its clients.
    await api.register(async (a) => registryRoutes(a, new SchemaRegistry(lake.catalog.driver)), { prefix: '/registry' });
  });

  live.start(settings.refreshMs ?? 1000);
  app.addHook('onClose', async () => {
    live.stop();
    reader.close();
    await metrics.close();
  });
  return { app, ctx };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Bearer tokens for the routes of the context it is registered in (wrapped with fastify-plugin semantics by
 * `skip-override`, so the hooks reach the sibling routes of that context): each route's OpenAPI operation says it
 * needs one, and a request without a valid token is answered 401 before validation. Tokens are compared as
 * SHA-256 digests in constant time.
 */
async function bearerAuthPlugin(api: FastifyInstance, options: { tokens: Buffer[] }): Promise<void> {
  api.addHook('onRoute', (route) => {
    if (!(route.schema as { hide?: boolean } | undefined)?.hide) route.schema = { ...route.schema, security: [{ bearer: [] }] };
  });
  api.addHook('preValidation', async (request, reply) => {
    // The scheme is case-insensitive (RFC 7235 §2.1): `bearer x` and `BEARER x` are the same credentials.
    const match = /^bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    const given = match ? digest(match[1]!) : undefined;
    if (!given || !options.tokens.some((t) => timingSafeEqual(t, given))) {
      return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid bearer token is required' });
    }
  });
}
const bearerAuth = Object.assign(bearerAuthPlugin, { [Symbol.for('skip-override')]: true });
