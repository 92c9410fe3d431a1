import type { CatalogDriver } from '../catalog/driver.js';
import { TributaryError } from '../errors.js';
import { RegistryError } from './errors.js';
import { type SchemaInput, SchemaRegistry, type StoredSchema, type SubjectVersion } from './registry.js';

/**
 * What serdes need of a schema registry: the schema of an id (decoding), a subject's version (references), and the
 * id of a schema under a subject, registered when new (encoding). Two implementations: the catalog's own registry
 * (`registry: 'embedded'`, the default) and any Confluent-compatible server over HTTP (`registry: 'http://…'`).
 */
export interface RegistryClient {
  readonly location: string;
  schemaById(id: number): Promise<StoredSchema>;
  version(subject: string, version: number | 'latest'): Promise<SubjectVersion>;
  /** The schema's id under the subject: looked up, or registered when `register` (refused when incompatible). */
  idOf(subject: string, input: SchemaInput, options: { register: boolean }): Promise<number>;
  /** Would the subject accept the schema under its compatibility level? (`subjectExists`: false for a new subject.) */
  compatibility(subject: string, input: SchemaInput): Promise<{ compatible: boolean; messages: string[]; subjectExists: boolean }>;
  register(subject: string, input: SchemaInput): Promise<{ id: number; version: number }>;
}

/** The registry stored in the project's catalog. */
export class CatalogRegistryClient implements RegistryClient {
  private readonly registry: SchemaRegistry;
  constructor(
    driver: CatalogDriver,
    readonly location = `embedded (catalog ${driver.location})`,
  ) {
    this.registry = new SchemaRegistry(driver);
  }

  schemaById(id: number): Promise<StoredSchema> {
    return this.registry.schemaById(id);
  }

  version(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    return this.registry.version(subject, version);
  }

  async idOf(subject: string, input: SchemaInput, options: { register: boolean }): Promise<number> {
    if (options.register) return (await this.registry.register(subject, input)).id;
    return (await this.registry.lookup(subject, input)).id;
  }

  async compatibility(subject: string, input: SchemaInput) {
    const subjectExists = (await this.registry.subjects()).includes(subject);
    return { ...(await this.registry.checkCompatibility(subject, input)), subjectExists };
  }

  async register(subject: string, input: SchemaInput) {
    const v = await this.registry.register(subject, input);
    return { id: v.id, version: v.version };
  }
}

/** A Confluent-compatible registry server (Confluent's, Tributary's standalone `tributary registry`, Apicurio's ccompat). */
export class HttpRegistryClient implements RegistryClient {
  readonly location: string;
  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {
    const url = new URL(baseUrl);
    url.username = '';
    url.password = '';
    this.location = url.toString().replace(/\/$/, '');
  }

  async schemaById(id: number): Promise<StoredSchema> {
    const body = (await this.call('GET', `/schemas/ids/${id}`)) as { schema: string; schemaType?: string; references?: StoredSchema['references'] };
    return { id, schema: body.schema, schemaType: body.schemaType ?? 'AVRO', references: body.references ?? [] };
  }

  async version(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const body = (await this.call('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`)) as {
      id: number;
      version: number;
      schema: string;
      schemaType?: string;
      references?: StoredSchema['references'];
    };
    return {
      subject,
      version: body.version,
      id: body.id,
      schema: body.schema,
      schemaType: body.schemaType ?? 'AVRO',
      references: body.references ?? [],
      deleted: false,
    };
  }

  async compatibility(subject: string, input: SchemaInput) {
    const subjects = (await this.call('GET', '/subjects')) as string[];
    const answer = (await this.call('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions?verbose=true`, input)) as {
      is_compatible: boolean;
      messages?: string[];
    };
    return { compatible: answer.is_compatible, messages: answer.messages ?? [], subjectExists: subjects.includes(subject) };
  }

  async register(subject: string, input: SchemaInput) {
    const answer = (await this.call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, input)) as { id: number; version?: number };
    const version = answer.version ?? (await this.version(subject, 'latest')).version;
    return { id: answer.id, version };
  }

  async idOf(subject: string, input: SchemaInput, options: { register: boolean }): Promise<number> {
    const path = options.register ? `/subjects/${encodeURIComponent(subject)}/versions` : `/subjects/${encodeURIComponent(subject)}`;
    return ((await this.call('POST', path, input)) as { id: number }).id;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(this.baseUrl.replace(/\/$/, '') + path);
    const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json', ...this.headers };
    if (url.username)
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new TributaryError('SOURCE_UNAVAILABLE', `schema registry ${this.location}: ${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = parsed as { error_code?: number; message?: string } | undefined;
      throw new RegistryError(
        res.status,
        error?.error_code ?? res.status,
        `schema registry ${this.location}: ${error?.message ?? `${res.status} ${text.slice(0, 200)}`}`,
      );
    }
    return parsed;
  }
}
