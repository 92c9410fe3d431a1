import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Type } from 'avsc';
import { z } from 'zod';
import { TributaryError, errorMessage } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';
import type { SchemaReference } from '../registry/registry.js';
import type { Serde, SerdeContext, SerdeFactory } from './serde.js';

const avsc = createRequire(import.meta.url)('avsc') as typeof import('avsc');

/** Confluent's wire format: magic byte 0, the schema id as 4 bytes big-endian, then the Avro binary encoding. */
const MAGIC = 0;
const HEADER = 5;

export const avroOptionsSchema = z.strictObject({
  kind: z.literal('avro'),
  /**
   * An Avro schema file (`.avsc`, relative to the project): for a stream, the reader schema every record is resolved
   * to (old and new producers on one topic); for encoding, the writer schema, registered under `subject`.
   * Without it a stream reads each record with the schema its id names.
   */
  schema: z.string().min(1).optional(),
  /** The subject encoding registers the schema under (default `<topic>-value`, Confluent's TopicNameStrategy). */
  subject: z.string().min(1).optional(),
  /** Register the schema when the subject does not hold it yet (default true); false only looks it up. */
  register: z.boolean().optional(),
});
export type AvroOptions = z.infer<typeof avroOptionsSchema>;

interface WriterEntry {
  type?: Type;
  /** The reader's resolver from this writer (with a reader schema). */
  resolver?: ReturnType<Type['createResolver']>;
  /** Why records with this id cannot be read (unknown id, another schema type, no resolution). */
  error?: string;
}

/** Avro values in Confluent's wire format, schemas from the project's schema registry (docs/contracts.md). */
class AvroSerde implements Serde {
  readonly kind = 'avro';
  private reader: Type | undefined;
  private readerText: string | undefined;
  private loaded = false;
  private readonly writers = new Map<number, WriterEntry>();
  private encodeId: number | undefined;

  constructor(
    private readonly options: AvroOptions,
    private readonly context: SerdeContext,
    private readonly where: string,
  ) {
    // Read now when the project is known (a wrong file is a config error at once), else before the first batch.
    if (context.projectDir) this.load();
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const { options, context, where } = this;
    if (options.schema) {
      const file = path.resolve(context.projectDir ?? process.cwd(), options.schema);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new TributaryError('CONFIG_INVALID', `${where}.schema: cannot read ${file}: ${errorMessage(err)}`);
      }
      try {
        this.reader = avsc.Type.forSchema(JSON.parse(text) as never);
      } catch (err) {
        throw new TributaryError('CONFIG_INVALID', `${where}.schema: ${options.schema} is not an Avro schema: ${errorMessage(err)}`);
      }
      this.readerText = JSON.stringify(JSON.parse(text));
    }
  }

  private registry(): RegistryClient {
    if (!this.context.registry) throw new TributaryError('CONFIG_INVALID', `${this.where}: format avro needs the project's schema registry`);
    return this.context.registry();
  }

  /** Fetches the writer schemas of the ids the values carry (once per id), and, to encode, the writer's id. */
  async prepare(values: readonly (Buffer | null)[]): Promise<void> {
    this.load();
    const ids = new Set<number>();
    for (const v of values) if (v && v.length >= HEADER && v[0] === MAGIC) ids.add(v.readInt32BE(1));
    for (const id of ids) {
      if (this.writers.has(id)) continue;
      this.writers.set(id, await this.loadWriter(id));
    }
    // To encode (no values): the writer's id. A format without a schema only decodes; encode() says so if asked.
    if (values.length === 0 && this.encodeId === undefined && this.readerText) {
      const subject = this.options.subject ?? (this.context.topic ? `${this.context.topic}-value` : undefined);
      if (!subject) throw new TributaryError('CONFIG_INVALID', `${this.where}.subject: name the subject the schema is registered under`);
      try {
        this.encodeId = await this.registry().idOf(subject, { schema: this.readerText, schemaType: 'AVRO' }, { register: this.options.register ?? true });
      } catch (err) {
        throw new TributaryError('CONFIG_INVALID', `${this.where}: schema ${this.options.schema} under subject ${subject}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    }
  }

  private async loadWriter(id: number): Promise<WriterEntry> {
    let stored: Awaited<ReturnType<RegistryClient['schemaById']>>;
    try {
      stored = await this.registry().schemaById(id);
    } catch (err) {
      // A registry that does not answer fails the batch (it is read again); an id it does not know is the record's fault.
      if ((err as { errorCode?: number }).errorCode === 40403) return { error: `schema id ${id} is not in the registry (${this.registry().location})` };
      throw err;
    }
    if (stored.schemaType !== 'AVRO') return { error: `schema id ${id} is a ${stored.schemaType} schema, not Avro` };
    let type: Type;
    try {
      const registry: Record<string, Type> = {};
      await this.loadReferences(stored.references, registry, new Set());
      type = avsc.Type.forSchema(JSON.parse(stored.schema) as never, { registry: registry as never });
    } catch (err) {
      return { error: `schema id ${id} cannot be parsed: ${errorMessage(err)}` };
    }
    if (!this.reader) return { type };
    try {
      return { type, resolver: this.reader.createResolver(type) };
    } catch (err) {
      return { error: `schema id ${id} does not resolve to the stream's schema ${this.options.schema}: ${firstLine(errorMessage(err))}` };
    }
  }

  private async loadReferences(refs: readonly SchemaReference[], registry: Record<string, Type>, seen: Set<string>): Promise<void> {
    for (const r of refs) {
      const key = `${r.subject}@${r.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const v = await this.registry().version(r.subject, r.version);
      await this.loadReferences(v.references, registry, seen);
      avsc.Type.forSchema(JSON.parse(v.schema) as never, { registry: registry as never });
    }
  }

  decode(bytes: Buffer): unknown {
    if (bytes.length < HEADER || bytes[0] !== MAGIC)
      throw new Error(
        `not the Confluent wire format: ${bytes.length < HEADER ? `${bytes.length} byte(s)` : `first byte 0x${bytes[0]!.toString(16).padStart(2, '0')}`}, expected the magic byte 0 and a 4-byte schema id`,
      );
    const id = bytes.readInt32BE(1);
    const writer = this.writers.get(id);
    if (!writer) throw new Error(`schema id ${id} was not fetched (the batch was not prepared)`);
    if (writer.error) throw new Error(writer.error);
    const payload = bytes.subarray(HEADER);
    try {
      return this.reader && writer.resolver ? this.reader.fromBuffer(payload, writer.resolver) : writer.type!.fromBuffer(payload);
    } catch (err) {
      throw new Error(`Avro value of schema id ${id} does not decode: ${firstLine(errorMessage(err))}`);
    }
  }

  encode(value: unknown): Buffer {
    if (!this.reader) throw new Error(`${this.where}.schema: encoding Avro needs the writer's schema (an .avsc file)`);
    if (this.encodeId === undefined) throw new Error(`${this.where}: the Avro writer is not prepared`);
    let body: Buffer;
    try {
      body = this.reader.toBuffer(value);
    } catch (err) {
      const paths: string[] = [];
      this.reader.isValid(value, { errorHook: (p) => paths.push(p.join('.') || '(the value)') });
      throw new Error(`not a value of ${this.options.schema}${paths.length ? ` (at ${paths.join(', ')})` : ''}: ${firstLine(errorMessage(err))}`);
    }
    const header = Buffer.alloc(HEADER);
    header[0] = MAGIC;
    header.writeInt32BE(this.encodeId, 1);
    return Buffer.concat([header, body]);
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}

export const avroFormat: SerdeFactory<AvroOptions> = {
  kind: 'avro',
  schema: avroOptionsSchema,
  create: (options, context, where) => new AvroSerde(options, context, where),
};
