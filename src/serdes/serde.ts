import { z } from 'zod';
import { TributaryError } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';
import type { ContractFile } from '../registry/lake-columns.js';
import { Registry } from '../util/registry.js';

/**
 * What a format may need of where it runs: the project (schema files are relative to it), its schema registry
 * (opened on first use), and the topic it encodes to or decodes from (a subject's default name).
 */
export interface SerdeContext {
  projectDir?: string;
  registry?: () => RegistryClient;
  topic?: string;
}

/**
 * A record format: how a value becomes bytes on a topic and back (Kafka Streams' `Serde`, a serializer and a
 * deserializer together). Streams decode their topic's records with one, output topics and `tributary produce`
 * encode with one, and dead-letter replay encodes corrected payloads with the stream's.
 *
 * `decode` and `encode` are synchronous, on the hot path; what needs the network (fetching a schema by the id a
 * record carries, registering the writer's schema) happens in `prepare`, awaited once per batch before its records
 * are decoded or encoded.
 */
export interface Serde {
  readonly kind: string;
  /** Throws on bytes that are not a value of this format (the record then goes to the dead-letter queue). */
  decode(bytes: Buffer): unknown;
  encode(value: unknown): Buffer;
  /** A line of a text file (`produce --from file`) as a record: by default the line parsed as JSON, then encoded. */
  fromText?(line: string): Buffer;
  /** Asynchronous set-up for the records of a batch (values to decode; none when encoding). */
  prepare?(values: readonly (Buffer | null)[]): Promise<void>;
  /** The schema every value conforms to (Avro's reader schema, a JSON Schema), when the format has one. */
  contract?(): ContractFile | undefined;
}

/**
 * A format's options as written in the config: `'json'`, or `{ kind: 'avro', … }`. The kind's own options are checked
 * by its factory's schema when the serde is made (`createSerde`), naming the setting.
 */
export const serdeSpecSchema = z.union([z.string().min(1), z.looseObject({ kind: z.string().min(1) })]);
export type SerdeSpec = z.infer<typeof serdeSpecSchema>;

/** A registered format: its options' schema, and how to make a serde from them. */
export interface SerdeFactory<O extends { kind: string } = { kind: string }> {
  readonly kind: O['kind'];
  readonly schema: z.ZodType<O>;
  create(options: O, context: SerdeContext, where: string): Serde;
}

const factories = new Registry<SerdeFactory>('format');

/**
 * Makes a format available as `format: '<kind>'` (or `{ kind: '<kind>', … }`) in streams and outputs. Registering
 * again replaces (a config loaded again); a built-in format cannot be replaced.
 */
export function registerSerde<O extends { kind: string }>(factory: SerdeFactory<O>): void {
  factories.register(factory.kind, factory as unknown as SerdeFactory);
}

/** The built-in formats (serdes/index.ts). */
export function registerBuiltInSerde<O extends { kind: string }>(factory: SerdeFactory<O>): void {
  factories.register(factory.kind, factory as unknown as SerdeFactory, { builtIn: true });
}

export function unregisterSerde(kind: string): void {
  factories.unregister(kind);
}

export function serdeKinds(): string[] {
  return factories.names().sort();
}

/** The serde a spec names; `where` names the setting in errors (an unknown format, a bad option). */
export function createSerde(spec: SerdeSpec | undefined, where: string, context: SerdeContext = {}): Serde {
  const options = typeof spec === 'string' ? { kind: spec } : (spec ?? { kind: 'json' });
  const factory = factories.require(options.kind, where);
  const parsed = factory.schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TributaryError('CONFIG_INVALID', `${where}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
  }
  return factory.create(parsed.data, context, where);
}
