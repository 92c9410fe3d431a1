import { createRequire } from 'node:module';
import type { Type } from 'avsc';
import { z } from 'zod';
import { TributaryError, errorMessage } from '../errors.js';
import type { Serde, SerdeContext, SerdeFactory } from './serde.js';
import { HEADER, firstLine, frame, framedId, notFramed, readSchemaFile, requireRegistry, visitReferences, writerId, writerSchema } from './wire.js';

const avsc = createRequire(import.meta.url)('avsc') as typeof import('avsc');

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
      const text = readSchemaFile(context, options.schema, where);
      try {
        this.reader = avsc.Type.forSchema(JSON.parse(text) as never);
      } catch (err) {
        throw new TributaryError('CONFIG_INVALID', `${where}.schema: ${options.schema} is not an Avro schema: ${errorMessage(err)}`);
      }
      this.readerText = JSON.stringify(JSON.parse(text));
    }
  }

  contract() {
    this.load();
    return this.options.schema && this.readerText
      ? { file: this.options.schema, schemaType: 'AVRO' as const, schema: JSON.parse(this.readerText) as unknown }
      : undefined;
  }

  /** Fetches the writer schemas of the ids the values carry (once per id), and, to encode, the writer's id. */
  async prepare(values: readonly (Buffer | null)[]): Promise<void> {
    this.load();
    const ids = new Set<number>();
    for (const v of values) {
      const id = framedId(v);
      if (id !== undefined) ids.add(id);
    }
    for (const id of ids) {
      if (this.writers.has(id)) continue;
      this.writers.set(id, await this.loadWriter(id));
    }
    // To encode (no values): the writer's id. A format without a schema only decodes; encode() says so if asked.
    if (values.length === 0 && this.encodeId === undefined && this.readerText)
      this.encodeId = await writerId(this.context, this.options, this.readerText, 'AVRO', this.where);
  }

  private async loadWriter(id: number): Promise<WriterEntry> {
    const client = requireRegistry(this.context, this.where, 'avro');
    const stored = await writerSchema(client, id, 'AVRO');
    if ('error' in stored) return stored;
    let type: Type;
    try {
      const registry: Record<string, Type> = {};
      await visitReferences(client, stored.references, (_name, schema) => {
        avsc.Type.forSchema(JSON.parse(schema) as never, { registry: registry as never });
      });
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

  decode(bytes: Buffer): unknown {
    const id = framedId(bytes);
    if (id === undefined) throw notFramed(bytes);
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
    return frame(this.encodeId, body);
  }
}

export const avroFormat: SerdeFactory<AvroOptions> = {
  kind: 'avro',
  schema: avroOptionsSchema,
  create: (options, context, where) => new AvroSerde(options, context, where),
};
