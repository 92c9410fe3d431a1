import type { ValidateFunction } from 'ajv';
import { z } from 'zod';
import { TributaryError, errorMessage } from '../errors.js';
import { compileJsonSchema, describeJsonErrors, type NamedSchema } from '../registry/json/validator.js';
import type { Serde, SerdeContext, SerdeFactory } from './serde.js';
import { HEADER, firstLine, frame, framedId, readSchemaFile, requireRegistry, visitReferences, writerId, writerSchema } from './wire.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseUtf8Json(bytes: Buffer): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new Error(`not valid UTF-8${at >= 0 ? ` at byte ${at}` : ''}`);
  }
  return JSON.parse(text) as unknown;
}

// BigInts (a `map` may produce them) as their digits: JSON has no other way to hold them exactly.
const stringify = (value: unknown) => Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));

/**
 * JSON text in UTF-8; invalid UTF-8 is refused rather than turned into U+FFFD ("Fr��ance" would become a group of its
 * own). Bytes in Confluent's wire format are not JSON text here: a format with a schema or `wire: 'confluent'` reads
 * them (a header is only trusted where its schema id can be checked).
 */
export const jsonSerde: Serde = {
  kind: 'json',
  decode: parseUtf8Json,
  encode: stringify,
  // A line of an NDJSON file is already a record: sent as it is, byte for byte (bad lines included, on purpose).
  fromText: (line) => Buffer.from(line),
};

export const jsonOptionsSchema = z.strictObject({
  kind: z.literal('json'),
  /**
   * A JSON Schema file (relative to the project): every value decoded or encoded is validated against it with ajv; a
   * value that is not valid goes to the dead-letter queue naming where and why.
   */
  schema: z.string().min(1).optional(),
  /**
   * 'plain' (default): JSON text. 'confluent': Confluent's JSON Schema wire format (magic byte 0, the schema id, the
   * JSON text), the schema registered under `subject`. Decoding accepts both either way: a framed value is validated
   * against the schema its id names when the format has no schema of its own.
   */
  wire: z.enum(['plain', 'confluent']).optional(),
  /** The subject the schema is registered under for `wire: 'confluent'` (default `<topic>-value`). */
  subject: z.string().min(1).optional(),
  /** Register the schema when the subject does not hold it yet (default true); false only looks it up. */
  register: z.boolean().optional(),
});
export type JsonOptions = z.infer<typeof jsonOptionsSchema>;

/** JSON values validated by a JSON Schema, plain or in Confluent's wire format (docs/contracts.md). */
class JsonSchemaSerde implements Serde {
  readonly kind = 'json';
  private text: string | undefined;
  private validate: ValidateFunction | undefined;
  private loaded = false;
  private encodeId: number | undefined;
  /** Validators of the writer schemas framed values name, or why their values cannot be read. */
  private readonly writers = new Map<number, { validate?: ValidateFunction; error?: string }>();

  constructor(
    private readonly options: JsonOptions,
    private readonly context: SerdeContext,
    private readonly where: string,
  ) {
    if (context.projectDir) this.load();
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.options.schema) return;
    const text = readSchemaFile(this.context, this.options.schema, this.where);
    try {
      this.validate = compileJsonSchema(JSON.parse(text));
    } catch (err) {
      throw new TributaryError('CONFIG_INVALID', `${this.where}.schema: ${this.options.schema} is not a valid JSON Schema: ${errorMessage(err)}`);
    }
    this.text = JSON.stringify(JSON.parse(text));
  }

  contract() {
    this.load();
    return this.options.schema && this.text ? { file: this.options.schema, schemaType: 'JSON' as const, schema: JSON.parse(this.text) as unknown } : undefined;
  }

  async prepare(values: readonly (Buffer | null)[]): Promise<void> {
    this.load();
    if (!this.validate)
      for (const v of values) {
        const id = framedId(v);
        if (id === undefined || this.writers.has(id)) continue;
        this.writers.set(id, await this.loadWriter(id));
      }
    if (values.length === 0 && this.options.wire === 'confluent' && this.encodeId === undefined) {
      if (!this.text) throw new TributaryError('CONFIG_INVALID', `${this.where}.schema: wire 'confluent' needs the writer's JSON Schema`);
      this.encodeId = await writerId(this.context, this.options, this.text, 'JSON', this.where);
    }
  }

  private async loadWriter(id: number): Promise<{ validate?: ValidateFunction; error?: string }> {
    const registry = requireRegistry(this.context, this.where, 'json');
    const stored = await writerSchema(registry, id, 'JSON');
    if ('error' in stored) return stored;
    const references: NamedSchema[] = [];
    await visitReferences(registry, stored.references, (name, schema) => references.push({ name, schema: JSON.parse(schema) }));
    try {
      return { validate: compileJsonSchema(JSON.parse(stored.schema), references) };
    } catch (err) {
      return { error: `schema id ${id} cannot be compiled: ${firstLine(errorMessage(err))}` };
    }
  }

  decode(bytes: Buffer): unknown {
    const id = bytes[0] === 0 ? framedId(bytes) : undefined;
    if (bytes[0] === 0 && id === undefined) throw new Error(`not JSON nor the Confluent wire format: ${bytes.length} byte(s) starting with 0x00`);
    const value = parseUtf8Json(id === undefined ? bytes : bytes.subarray(HEADER));
    let validate = this.validate;
    if (!validate && id !== undefined) {
      const writer = this.writers.get(id);
      if (!writer) throw new Error(`schema id ${id} was not fetched (the batch was not prepared)`);
      if (writer.error) throw new Error(writer.error);
      validate = writer.validate;
    }
    if (validate && !validate(value)) throw new Error(`not valid against ${this.options.schema ?? `schema id ${id}`}: ${describeJsonErrors(validate)}`);
    return value;
  }

  encode(value: unknown): Buffer {
    this.load();
    if (this.validate && !this.validate(value)) throw new Error(`not valid against ${this.options.schema}: ${describeJsonErrors(this.validate)}`);
    const body = stringify(value);
    if (this.options.wire !== 'confluent') return body;
    if (this.encodeId === undefined) throw new Error(`${this.where}: the JSON Schema writer is not prepared`);
    return frame(this.encodeId, body);
  }
}

export const jsonFormat: SerdeFactory<JsonOptions> = {
  kind: 'json',
  schema: jsonOptionsSchema,
  create: (options, context, where) => (options.schema || options.wire === 'confluent' ? new JsonSchemaSerde(options, context, where) : jsonSerde),
};

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (-1: none). */
function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length) return i;
    for (let k = 1; k <= need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}
