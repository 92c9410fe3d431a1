import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TributaryError, errorMessage } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';
import type { SchemaReference, StoredSchema } from '../registry/registry.js';
import type { SerdeContext } from './serde.js';

/** Confluent's wire format: magic byte 0, the schema id as 4 bytes big-endian, then the value's bytes. */
export const MAGIC = 0;
export const HEADER = 5;

/** The schema id a framed value carries (undefined: not framed). */
export function framedId(bytes: Buffer | null | undefined): number | undefined {
  return bytes && bytes.length >= HEADER && bytes[0] === MAGIC ? bytes.readInt32BE(1) : undefined;
}

export function frame(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = MAGIC;
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

export function notFramed(bytes: Buffer): Error {
  return new Error(
    `not the Confluent wire format: ${bytes.length < HEADER ? `${bytes.length} byte(s)` : `first byte 0x${bytes[0]!.toString(16).padStart(2, '0')}`}, expected the magic byte 0 and a 4-byte schema id`,
  );
}

/** A schema file of the project (`schema:` of a format), as text; a missing file is a config error naming the setting. */
export function readSchemaFile(context: SerdeContext, file: string, where: string): string {
  const absolute = path.resolve(context.projectDir ?? process.cwd(), file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new TributaryError('CONFIG_INVALID', `${where}.schema: cannot read ${absolute}: ${errorMessage(err)}`);
  }
  try {
    JSON.parse(text);
  } catch (err) {
    throw new TributaryError('CONFIG_INVALID', `${where}.schema: ${file} is not JSON: ${errorMessage(err)}`);
  }
  return text;
}

export function requireRegistry(context: SerdeContext, where: string, format: string): RegistryClient {
  if (!context.registry) throw new TributaryError('CONFIG_INVALID', `${where}: format ${format} needs the project's schema registry`);
  return context.registry();
}

/**
 * The writer's schema id for encoding: the schema registered (or looked up, `register: false`) under the subject
 * (default `<topic>-value`, Confluent's TopicNameStrategy).
 */
export async function writerId(
  context: SerdeContext,
  options: { schema?: string | undefined; subject?: string | undefined; register?: boolean | undefined },
  text: string,
  schemaType: 'AVRO' | 'JSON',
  where: string,
): Promise<number> {
  const subject = options.subject ?? (context.topic ? `${context.topic}-value` : undefined);
  if (!subject) throw new TributaryError('CONFIG_INVALID', `${where}.subject: name the subject the schema is registered under`);
  try {
    return await requireRegistry(context, where, schemaType === 'AVRO' ? 'avro' : 'json').idOf(
      subject,
      { schema: text, schemaType },
      { register: options.register ?? true },
    );
  } catch (err) {
    throw new TributaryError('CONFIG_INVALID', `${where}: schema ${options.schema} under subject ${subject}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * The writer's schema a record's id names, or why the record cannot be read: an id the registry does not know, or a
 * schema of another type, is the record's fault (dead-letter queue); a registry that does not answer fails the batch
 * (read again).
 */
export async function writerSchema(registry: RegistryClient, id: number, schemaType: 'AVRO' | 'JSON'): Promise<StoredSchema | { error: string }> {
  let stored: StoredSchema;
  try {
    stored = await registry.schemaById(id);
  } catch (err) {
    if ((err as { errorCode?: number }).errorCode === 40403) return { error: `schema id ${id} is not in the registry (${registry.location})` };
    throw err;
  }
  if (stored.schemaType !== schemaType)
    return { error: `schema id ${id} is a ${stored.schemaType} schema, not ${schemaType === 'AVRO' ? 'Avro' : 'JSON Schema'}` };
  return stored;
}

/** The schemas a stored schema references, depth first (each once), as `visit(name, text)`. */
export async function visitReferences(
  registry: RegistryClient,
  refs: readonly SchemaReference[],
  visit: (name: string, schema: string) => void,
  seen = new Set<string>(),
): Promise<void> {
  for (const r of refs) {
    const key = `${r.subject}@${r.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const v = await registry.version(r.subject, r.version);
    await visitReferences(registry, v.references, visit, seen);
    visit(r.name, v.schema);
  }
}

export function firstLine(s: string): string {
  return s.split('\n')[0]!;
}
