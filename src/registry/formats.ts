import { createRequire } from 'node:module';
import { type AvroIssue, type AvroJson, AvroNames, parseAvro, readIssues } from './avro/compatibility.js';
import { RegistryError } from './errors.js';
import { type JsonSchema, jsonReadIssues } from './json/compatibility.js';
import { compileJsonSchema, type NamedSchema } from './json/validator.js';

const require = createRequire(import.meta.url);
const avsc = require('avsc') as typeof import('avsc');

/** A schema referenced by another (Confluent's `references`): the name it is imported under, and its text. */
export interface ResolvedReference {
  name: string;
  subject: string;
  version: number;
  schemaType: string;
  schema: string;
  /** Its own references, resolved. */
  references: ResolvedReference[];
}

/**
 * A schema type of the registry (Confluent's `schemaType`): how its schemas are validated, made canonical (two texts
 * of one schema get one id) and compared for compatibility. One per type, registered here.
 */
export interface SchemaFormat {
  readonly type: string;
  /** The canonical text; throws 42201 naming what is wrong. */
  canonical(text: string, references: readonly ResolvedReference[]): string;
  /** Why data written with `writer` cannot be read with `reader` (empty: it can). */
  readIssues(reader: string, readerRefs: readonly ResolvedReference[], writer: string, writerRefs: readonly ResolvedReference[]): AvroIssue[];
}

function parseJson(text: string): AvroJson {
  try {
    return JSON.parse(text) as AvroJson;
  } catch (err) {
    throw new RegistryError(422, 42201, `Invalid schema: not JSON: ${(err as Error).message}`);
  }
}

/** Parses a schema with its references' named types known, as Avro resolves an imported name. */
function avroNodes(text: string, references: readonly ResolvedReference[]) {
  const names = new AvroNames();
  const visit = (refs: readonly ResolvedReference[]) => {
    for (const r of refs) {
      visit(r.references);
      parseAvro(parseJson(r.schema), names);
    }
  };
  visit(references);
  return parseAvro(parseJson(text), names);
}

export const avroFormat: SchemaFormat = {
  type: 'AVRO',
  canonical(text, references) {
    const json = parseJson(text);
    // Validated by avsc (Apache Avro's rules for names, defaults, unions…), with the references' types registered.
    const registry: Record<string, unknown> = {};
    const load = (refs: readonly ResolvedReference[]) => {
      for (const r of refs) {
        load(r.references);
        avsc.Type.forSchema(parseJson(r.schema) as never, { registry: registry as never });
      }
    };
    try {
      load(references);
      avsc.Type.forSchema(json as never, { registry: registry as never });
    } catch (err) {
      throw new RegistryError(422, 42201, `Invalid schema: ${(err as Error).message}`);
    }
    return JSON.stringify(json);
  },
  readIssues(reader, readerRefs, writer, writerRefs) {
    return readIssues(avroNodes(reader, readerRefs), avroNodes(writer, writerRefs));
  },
};

/** The references of a JSON schema, flattened, by the name a `$ref` uses. */
function namedSchemas(references: readonly ResolvedReference[], out: NamedSchema[] = []): NamedSchema[] {
  for (const r of references) {
    namedSchemas(r.references, out);
    out.push({ name: r.name, schema: parseJson(r.schema) });
  }
  return out;
}

/** JSON Schema (Confluent's `JSON` type): validated by ajv for its draft; compatibility as Confluent defines it. */
export const jsonSchemaFormat: SchemaFormat = {
  type: 'JSON',
  canonical(text, references) {
    const json = parseJson(text);
    if (typeof json !== 'boolean' && (typeof json !== 'object' || json === null || Array.isArray(json)))
      throw new RegistryError(422, 42201, 'Invalid schema: a JSON Schema is an object or a boolean');
    try {
      compileJsonSchema(json, namedSchemas(references));
    } catch (err) {
      throw new RegistryError(422, 42201, `Invalid schema: ${(err as Error).message}`);
    }
    return JSON.stringify(json);
  },
  readIssues(reader, readerRefs, writer, writerRefs) {
    const refs = (list: readonly ResolvedReference[]) => new Map(namedSchemas(list).map((n) => [n.name, n.schema as JsonSchema]));
    try {
      return jsonReadIssues(parseJson(reader) as JsonSchema, parseJson(writer) as JsonSchema, refs(readerRefs), refs(writerRefs));
    } catch (err) {
      return [{ path: '/', message: (err as Error).message }];
    }
  },
};

const formats = new Map<string, SchemaFormat>([
  [avroFormat.type, avroFormat],
  [jsonSchemaFormat.type, jsonSchemaFormat],
]);

export function schemaFormat(type: string | undefined): SchemaFormat {
  const format = formats.get((type ?? 'AVRO').toUpperCase());
  if (!format)
    throw new RegistryError(422, 42201, `Invalid schema: schema type ${type} is not supported by this registry (supported: ${[...formats.keys()].join(', ')})`);
  return format;
}

export function schemaTypes(): string[] {
  return [...formats.keys()];
}
