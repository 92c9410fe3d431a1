import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TributaryError, errorMessage } from '../errors.js';
import type { JsonSchema } from './json/compatibility.js';

/**
 * A contract as lake columns: what an Avro schema (`.avsc`) or a JSON Schema (`.json`) says of a record, in DuckDB's
 * types. One declaration then stands for the topic, the table and the API: a stream's events table and a table with
 * `tables[…].contract` take these columns, and the API's row schema takes their descriptions, enums and nullability.
 *
 * Avro: record → STRUCT, array → LIST, map → MAP(VARCHAR, …), enum → VARCHAR (its symbols kept for the API), a union
 * with null → the other branch, nullable; other unions → JSON; fixed and bytes → BLOB; logical types: date → DATE,
 * time-millis/micros → TIME, timestamp-millis/micros → TIMESTAMPTZ, local-timestamp-* → TIMESTAMP, decimal →
 * DECIMAL(p, s) (VARCHAR beyond 38 digits), uuid → UUID. JSON Schema: object with properties → STRUCT, with only
 * additionalProperties → MAP, array → LIST, integer → BIGINT, number → DOUBLE, strings by format (date-time →
 * TIMESTAMPTZ, date → DATE, time → TIME, uuid → UUID), several types → JSON.
 */
export interface ContractColumn {
  name: string;
  /** DuckDB type. */
  type: string;
  nullable: boolean;
  description?: string;
  /** The allowed values of an enum column. */
  enum?: string[];
  /**
   * A decoded value as JSON that DuckDB's `json_transform` turns into `type` (Avro's dates as days become
   * `YYYY-MM-DD`, timestamps ISO-8601, decimals' bytes exact digits, bytes base64).
   */
  toJson: (value: unknown) => unknown;
}

export interface ContractFile {
  file: string;
  schemaType: 'AVRO' | 'JSON';
  /** The schema as parsed JSON. */
  schema: unknown;
}

/** A contract file of the project, by extension: `.avsc` is Avro, `.json` JSON Schema. */
export function readContract(projectDir: string, file: string, where: string): ContractFile {
  const absolute = path.resolve(projectDir, file);
  const ext = path.extname(file);
  if (ext !== '.avsc' && ext !== '.json')
    throw new TributaryError('CONFIG_INVALID', `${where}: ${file}: a contract is an .avsc (Avro) or .json (JSON Schema) file`);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new TributaryError('CONFIG_INVALID', `${where}: cannot read ${absolute}: ${errorMessage(err)}`);
  }
  try {
    return { file, schemaType: ext === '.avsc' ? 'AVRO' : 'JSON', schema: JSON.parse(text) as unknown };
  } catch (err) {
    throw new TributaryError('CONFIG_INVALID', `${where}: ${file} is not JSON: ${errorMessage(err)}`);
  }
}

/** The top-level columns of a contract (its record's fields, its object's properties). */
export function contractColumns(contract: ContractFile, where: string): ContractColumn[] {
  try {
    return contract.schemaType === 'AVRO' ? avroColumns(contract.schema) : jsonColumns(contract.schema as JsonSchema);
  } catch (err) {
    throw new TributaryError('CONFIG_INVALID', `${where}: ${contract.file}: ${errorMessage(err)}`);
  }
}

/** The STRUCT structure of a contract's columns for `json_transform` (nested types as DuckDB type names). */
export function transformStructure(columns: readonly ContractColumn[]): string {
  return JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, c.type])));
}

// ---- Avro ------------------------------------------------------------------------------------------------------

type Obj = { [key: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const identity = (v: unknown) => v;

interface Lake {
  type: string;
  nullable: boolean;
  enum?: string[];
  toJson: (v: unknown) => unknown;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function avroColumns(schema: unknown): ContractColumn[] {
  const names = new Map<string, Obj>();
  const top = resolveAvro(schema, names, undefined);
  if (!isObj(top) || top.type !== 'record') throw new Error('the schema is not an Avro record: a table or a stream takes its columns from a record');
  return (top.fields as Obj[]).map((f) => {
    const lake = avroLake(f.type, names, new Set([fullName(top, undefined)]), namespaceOf(top, undefined));
    return { name: String(f.name), ...lake, ...(typeof f.doc === 'string' ? { description: f.doc } : {}) };
  });
}

function namespaceOf(s: Obj, enclosing: string | undefined): string | undefined {
  const name = String(s.name ?? '');
  if (name.includes('.')) return name.slice(0, name.lastIndexOf('.'));
  return typeof s.namespace === 'string' ? s.namespace : enclosing;
}

function fullName(s: Obj, enclosing: string | undefined): string {
  const name = String(s.name ?? '');
  if (name.includes('.')) return name;
  const ns = namespaceOf(s, enclosing);
  return ns ? `${ns}.${name}` : name;
}

/** Registers the named types of a schema (depth first) and returns it. */
function resolveAvro(schema: unknown, names: Map<string, Obj>, ns: string | undefined): unknown {
  if (Array.isArray(schema)) {
    for (const s of schema) resolveAvro(s, names, ns);
    return schema;
  }
  if (!isObj(schema)) return schema;
  const type = schema.type;
  if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
    names.set(fullName(schema, ns), schema);
    names.set(String(schema.name), schema);
    const inner = namespaceOf(schema, ns);
    if (Array.isArray(schema.fields)) for (const f of schema.fields as Obj[]) resolveAvro(f.type, names, inner);
  } else if (type === 'array') resolveAvro(schema.items, names, ns);
  else if (type === 'map') resolveAvro(schema.values, names, ns);
  else if (isObj(type) || Array.isArray(type)) resolveAvro(type, names, ns);
  return schema;
}

function avroLake(schema: unknown, names: Map<string, Obj>, stack: Set<string>, ns: string | undefined): Lake {
  if (Array.isArray(schema)) {
    const branches = schema.filter((b) => b !== 'null' && !(isObj(b) && b.type === 'null'));
    const nullable = branches.length < schema.length;
    if (branches.length === 1) return { ...avroLake(branches[0], names, stack, ns), nullable };
    return { type: 'JSON', nullable, toJson: jsonable };
  }
  if (typeof schema === 'string') {
    const named = PRIMITIVE[schema] ? undefined : (names.get(schema) ?? (ns ? names.get(`${ns}.${schema}`) : undefined));
    if (named) return avroLake(named, names, stack, ns);
    const p = PRIMITIVE[schema];
    if (!p) throw new Error(`unknown Avro type ${schema}`);
    return { ...p, nullable: schema === 'null' };
  }
  if (!isObj(schema)) throw new Error(`not an Avro schema: ${JSON.stringify(schema)}`);
  const logical = schema.logicalType;
  const base = schema.type;
  if (logical === 'date' && base === 'int')
    return { type: 'DATE', nullable: false, toJson: (v) => (typeof v === 'number' ? new Date(v * 86_400_000).toISOString().slice(0, 10) : v) };
  if ((logical === 'timestamp-millis' || logical === 'timestamp-micros') && base === 'long')
    return { type: 'TIMESTAMPTZ', nullable: false, toJson: timeFrom(logical === 'timestamp-micros' ? 1000 : 1, 'Z') };
  if ((logical === 'local-timestamp-millis' || logical === 'local-timestamp-micros') && base === 'long')
    return { type: 'TIMESTAMP', nullable: false, toJson: timeFrom(logical === 'local-timestamp-micros' ? 1000 : 1, '') };
  if ((logical === 'time-millis' && base === 'int') || (logical === 'time-micros' && base === 'long')) {
    const per = logical === 'time-micros' ? 1000 : 1;
    return { type: 'TIME', nullable: false, toJson: (v) => (typeof v === 'number' ? new Date(v / per).toISOString().slice(11, 23) : v) };
  }
  if (logical === 'decimal' && (base === 'bytes' || base === 'fixed')) {
    const precision = Number(schema.precision);
    const scale = Number(schema.scale ?? 0);
    return {
      type: precision <= 38 ? `DECIMAL(${precision}, ${scale})` : 'VARCHAR',
      nullable: false,
      toJson: (v) => (Buffer.isBuffer(v) ? decimalText(v, scale) : v),
    };
  }
  if (logical === 'uuid' && base === 'string') return { type: 'UUID', nullable: false, toJson: identity };
  if (base === 'record' || base === 'error') {
    const name = fullName(schema, ns);
    // A recursive record (a linked list, a tree) has no STRUCT type: JSON from where it recurs.
    if (stack.has(name)) return { type: 'JSON', nullable: false, toJson: jsonable };
    const inner = new Set(stack).add(name);
    const fields = (schema.fields as Obj[]).map((f) => ({ name: String(f.name), lake: avroLake(f.type, names, inner, namespaceOf(schema, ns)) }));
    return {
      type: `STRUCT(${fields.map((f) => `${q(f.name)} ${f.lake.type}`).join(', ')})`,
      nullable: false,
      toJson: (v) => {
        if (!isObj(v)) return v;
        const out: Obj = {};
        for (const f of fields) out[f.name] = v[f.name] === null || v[f.name] === undefined ? null : f.lake.toJson(v[f.name]);
        return out;
      },
    };
  }
  if (base === 'enum') return { type: 'VARCHAR', nullable: false, enum: (schema.symbols as unknown[]).map(String), toJson: identity };
  if (base === 'array') {
    const items = avroLake(schema.items, names, stack, ns);
    return { type: `${items.type}[]`, nullable: false, toJson: (v) => (Array.isArray(v) ? v.map((x) => (x === null ? null : items.toJson(x))) : v) };
  }
  if (base === 'map') {
    const values = avroLake(schema.values, names, stack, ns);
    return {
      type: `MAP(VARCHAR, ${values.type})`,
      nullable: false,
      toJson: (v) => (isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? null : values.toJson(x)])) : v),
    };
  }
  if (base === 'fixed') return { type: 'BLOB', nullable: false, toJson: base64 };
  if (typeof base === 'string' || isObj(base) || Array.isArray(base)) return avroLake(base, names, stack, ns);
  throw new Error(`not an Avro schema: ${JSON.stringify(schema)}`);
}

const PRIMITIVE: Record<string, Omit<Lake, 'nullable'>> = {
  null: { type: 'VARCHAR', toJson: () => null },
  boolean: { type: 'BOOLEAN', toJson: identity },
  int: { type: 'INTEGER', toJson: identity },
  long: { type: 'BIGINT', toJson: (v) => (typeof v === 'bigint' ? v.toString() : v) },
  float: { type: 'FLOAT', toJson: identity },
  double: { type: 'DOUBLE', toJson: identity },
  bytes: { type: 'BLOB', toJson: base64 },
  string: { type: 'VARCHAR', toJson: identity },
};

function base64(v: unknown): unknown {
  return Buffer.isBuffer(v) ? v.toString('base64') : v;
}

function timeFrom(perMs: number, zone: string): (v: unknown) => unknown {
  return (v) => {
    if (typeof v !== 'number' && typeof v !== 'bigint') return v;
    const ms = Number(v) / perMs;
    const iso = new Date(Math.floor(ms)).toISOString();
    // Microseconds survive: the fraction past the millisecond appended.
    const micros = perMs === 1000 ? String(Number((BigInt(v) % 1000n) + 1000n) % 1000).padStart(3, '0') : '';
    return `${iso.slice(0, 23)}${micros}${zone}`;
  };
}

/** An Avro decimal's two's-complement big-endian unscaled value, as exact digits with `scale` decimals. */
export function decimalText(bytes: Buffer, scale: number): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (bytes.length && bytes[0]! & 0x80) n -= 1n << BigInt(bytes.length * 8);
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}

/** A decoded value JSON can hold: bytes as base64, big integers as digits. */
function jsonable(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonable);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  return v;
}

// ---- JSON Schema -----------------------------------------------------------------------------------------------

function jsonColumns(schema: JsonSchema): ContractColumn[] {
  const root = schema;
  const top = derefJson(schema, root);
  if (!isObj(top) || !isObj(top.properties)) throw new Error('the schema is not an object with properties: a table or a stream takes its columns from them');
  const required = new Set(Array.isArray(top.required) ? (top.required as string[]) : []);
  return Object.entries(top.properties).map(([name, s]) => {
    const lake = jsonLake(s as JsonSchema, root, new Set());
    const resolved = derefJson(s as JsonSchema, root);
    return {
      name,
      ...lake,
      nullable: lake.nullable || !required.has(name),
      ...(isObj(resolved) && typeof resolved.description === 'string' ? { description: resolved.description } : {}),
    };
  });
}

function derefJson(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  for (let i = 0; isObj(s) && typeof s.$ref === 'string' && i < 32; i++) {
    const ref = s.$ref as string;
    if (!ref.startsWith('#')) throw new Error(`$ref ${ref}: a contract's references are local (#/…)`);
    let node: unknown = root;
    for (const key of ref.slice(1).split('/').slice(1)) node = isObj(node) ? node[decodeURIComponent(key).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    if (node === undefined) throw new Error(`$ref ${ref} points at nothing`);
    s = node as JsonSchema;
  }
  return s;
}

function jsonLake(schema: JsonSchema, root: JsonSchema, stack: Set<object>): Lake {
  const s = derefJson(schema, root);
  if (!isObj(s)) return { type: 'JSON', nullable: true, toJson: identity };
  if (stack.has(s)) return { type: 'JSON', nullable: true, toJson: identity };
  const inner = new Set(stack).add(s);
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(s[key])) {
      const branches = (s[key] as JsonSchema[]).map((b) => derefJson(b, root));
      const nonNull = branches.filter((b) => !(isObj(b) && b.type === 'null'));
      if (nonNull.length === 1) return { ...jsonLake(nonNull[0]!, root, inner), nullable: nonNull.length < branches.length };
      return { type: 'JSON', nullable: true, toJson: identity };
    }
  }
  const types = typeof s.type === 'string' ? [s.type] : Array.isArray(s.type) ? (s.type as string[]) : [];
  const nonNull = types.filter((t) => t !== 'null');
  const nullable = nonNull.length < types.length;
  const enumValues = Array.isArray(s.enum) && s.enum.every((e) => typeof e === 'string') ? (s.enum as string[]) : undefined;
  if (nonNull.length !== 1) {
    if (!types.length && enumValues) return { type: 'VARCHAR', nullable, enum: enumValues, toJson: identity };
    return { type: 'JSON', nullable: true, toJson: identity };
  }
  const type = nonNull[0];
  if (type === 'string') {
    const format = s.format;
    const t = format === 'date-time' ? 'TIMESTAMPTZ' : format === 'date' ? 'DATE' : format === 'time' ? 'TIME' : format === 'uuid' ? 'UUID' : 'VARCHAR';
    return { type: t, nullable, ...(enumValues ? { enum: enumValues } : {}), toJson: identity };
  }
  if (type === 'integer') return { type: 'BIGINT', nullable, toJson: identity };
  if (type === 'number') return { type: 'DOUBLE', nullable, toJson: identity };
  if (type === 'boolean') return { type: 'BOOLEAN', nullable, toJson: identity };
  if (type === 'array') {
    const items = isObj(s.items) ? jsonLake(s.items as JsonSchema, root, inner) : { type: 'JSON', nullable: true, toJson: identity };
    return { type: `${items.type}[]`, nullable, toJson: (v) => (Array.isArray(v) ? v.map((x) => (x === null ? null : items.toJson(x))) : v) };
  }
  if (type === 'object') {
    if (isObj(s.properties)) {
      const fields = Object.entries(s.properties).map(([name, p]) => ({ name, lake: jsonLake(p as JsonSchema, root, inner) }));
      return {
        type: `STRUCT(${fields.map((f) => `${q(f.name)} ${f.lake.type}`).join(', ')})`,
        nullable,
        toJson: (v) => {
          if (!isObj(v)) return v;
          const out: Obj = {};
          for (const f of fields) out[f.name] = v[f.name] === null || v[f.name] === undefined ? null : f.lake.toJson(v[f.name]);
          return out;
        },
      };
    }
    if (isObj(s.additionalProperties)) {
      const values = jsonLake(s.additionalProperties as JsonSchema, root, inner);
      return {
        type: `MAP(VARCHAR, ${values.type})`,
        nullable,
        toJson: (v) => (isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? null : values.toJson(x)])) : v),
      };
    }
  }
  return { type: 'JSON', nullable: true, toJson: identity };
}
