import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from './errors.js';
import { schemaTypes } from './formats.js';
import type { SchemaInput, SchemaRegistry, StoredSchema, SubjectVersion } from './registry.js';

const MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';
const BODY_TYPES = ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/json', 'application/octet-stream'];

type Query = Record<string, string | undefined>;
type Params = Record<string, string>;

/**
 * Confluent Schema Registry's REST API over the catalog's registry, as an encapsulated Fastify plugin: mounted at the
 * root by `tributary registry`, under `/registry` by `tributary serve` (behind its bearer tokens when set). Paths,
 * bodies, media type and `error_code`s are Confluent's, so that its clients and serializers work unchanged.
 * Not documented in the OpenAPI document: Confluent's API reference is the contract.
 */
export async function registryRoutes(app: FastifyInstance, registry: SchemaRegistry): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(BODY_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body ?? '');
    if (!text.trim()) return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new RegistryError(422, 42201, `Invalid request body: ${(err as Error).message}`), undefined);
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    if (err instanceof RegistryError) return send(reply, err.status, { error_code: err.errorCode, message: err.message });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return send(reply, status, {
      error_code: status === 500 ? 50001 : status,
      message: status === 500 ? `Error in the backend data store: ${err.message}` : err.message,
    });
  });
  app.setNotFoundHandler((request, reply) => send(reply, 404, { error_code: 404, message: `HTTP 404 Not Found: ${request.method} ${request.url}` }));

  const route = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, handler: (params: Params, query: Query, body: unknown) => Promise<unknown>) =>
    app.route({
      method,
      url,
      schema: { hide: true },
      handler: async (request: FastifyRequest, reply: FastifyReply) =>
        send(reply, 200, await handler(request.params as Params, request.query as Query, request.body)),
    });
  const flag = (q: Query, name: string) => q[name] === 'true';
  const id = (raw: string | undefined) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new RegistryError(404, 40403, `Schema ${raw} not found.`);
    return n;
  };

  route('GET', '/', async () => ({}));
  route('GET', '/schemas/types', async () => schemaTypes());
  route('GET', '/schemas/ids/:id', async (p, q) => {
    const schema = await registry.schemaById(id(p.id));
    if (q.subject) {
      // Confluent checks that the subject holds the id only when asked for a subject it knows.
      const holders = await registry.versionsOfId(schema.id);
      if (holders.length && !holders.some((h) => h.subject === q.subject) && (await registry.subjects({ deleted: true })).includes(q.subject))
        throw new RegistryError(404, 40403, `Schema ${schema.id} not found under subject ${q.subject}.`);
    }
    return schemaBody(schema);
  });
  route('GET', '/schemas/ids/:id/schema', async (p) => JSON.parse((await registry.schemaById(id(p.id))).schema));
  route('GET', '/schemas/ids/:id/versions', async (p) => registry.versionsOfId(id(p.id)));
  route('GET', '/schemas/ids/:id/subjects', async (p) => [...new Set((await registry.versionsOfId(id(p.id))).map((v) => v.subject))]);

  route('GET', '/subjects', async (_p, q) => registry.subjects({ deleted: flag(q, 'deleted'), ...(q.subjectPrefix ? { prefix: q.subjectPrefix } : {}) }));
  route('GET', '/subjects/:subject/versions', async (p, q) => registry.versions(p.subject!, { deleted: flag(q, 'deleted') }));
  route('GET', '/subjects/:subject/versions/:version', async (p, q) =>
    versionBody(await registry.version(p.subject!, p.version!, { deleted: flag(q, 'deleted') })),
  );
  route('GET', '/subjects/:subject/versions/:version/schema', async (p) => JSON.parse((await registry.version(p.subject!, p.version!)).schema));
  route('GET', '/subjects/:subject/versions/:version/referencedby', async (p) => registry.referencedBy(p.subject!, p.version!));
  route('POST', '/subjects/:subject/versions', async (p, _q, body) => {
    const v = await registry.register(p.subject!, input(body));
    return versionBody(v);
  });
  route('POST', '/subjects/:subject', async (p, q, body) => versionBody(await registry.lookup(p.subject!, input(body), { deleted: flag(q, 'deleted') })));
  route('DELETE', '/subjects/:subject', async (p, q) => registry.deleteSubject(p.subject!, flag(q, 'permanent')));
  route('DELETE', '/subjects/:subject/versions/:version', async (p, q) => registry.deleteVersion(p.subject!, p.version!, flag(q, 'permanent')));

  const compatibility = async (p: Params, q: Query, body: unknown, against?: string) => {
    const result = await registry.checkCompatibility(p.subject!, input(body), against);
    return flag(q, 'verbose') ? { is_compatible: result.compatible, messages: result.messages } : { is_compatible: result.compatible };
  };
  route('POST', '/compatibility/subjects/:subject/versions/:version', async (p, q, body) => compatibility(p, q, body, p.version));
  route('POST', '/compatibility/subjects/:subject/versions', async (p, q, body) => compatibility(p, q, body));

  route('GET', '/config', async () => ({ compatibilityLevel: await registry.compatibility() }));
  route('PUT', '/config', async (_p, _q, body) => ({ compatibility: await registry.setCompatibility((body as { compatibility?: unknown })?.compatibility) }));
  route('DELETE', '/config', async () => ({ compatibilityLevel: await registry.deleteCompatibility() }));
  route('GET', '/config/:subject', async (p, q) => {
    const own = await registry.compatibility(p.subject);
    if (own) return { compatibilityLevel: own };
    if (flag(q, 'defaultToGlobal')) return { compatibilityLevel: await registry.compatibility() };
    throw new RegistryError(404, 40408, `Subject '${p.subject}' does not have subject-level compatibility configured`);
  });
  route('PUT', '/config/:subject', async (p, _q, body) => ({
    compatibility: await registry.setCompatibility((body as { compatibility?: unknown })?.compatibility, p.subject),
  }));
  route('DELETE', '/config/:subject', async (p) => ({ compatibilityLevel: await registry.deleteCompatibility(p.subject) }));
  // Only READWRITE: the registry is never read-only or in IMPORT mode.
  route('GET', '/mode', async () => ({ mode: 'READWRITE' }));
  route('GET', '/mode/:subject', async () => ({ mode: 'READWRITE' }));
}

function send(reply: FastifyReply, status: number, body: unknown) {
  return reply.code(status).type(MEDIA_TYPE).send(JSON.stringify(body));
}

function input(body: unknown): SchemaInput {
  if (typeof body !== 'object' || body === null || typeof (body as SchemaInput).schema !== 'string')
    throw new RegistryError(422, 42201, 'Invalid schema: the body must be {"schema": "<schema as a string>", "schemaType"?, "references"?}');
  return body as SchemaInput;
}

/** Confluent leaves `schemaType` out for AVRO and `references` out when empty. */
function schemaBody(s: StoredSchema) {
  return {
    schema: s.schema,
    ...(s.schemaType === 'AVRO' ? {} : { schemaType: s.schemaType }),
    ...(s.references.length ? { references: s.references } : {}),
  };
}

function versionBody(v: SubjectVersion) {
  return { subject: v.subject, version: v.version, id: v.id, ...schemaBody(v) };
}
