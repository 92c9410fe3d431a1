import type { ColumnInfo } from '../../catalog/types.js';
import { matchingOpen, splitTopLevel, structField } from '../../engine/type-text.js';

/**
 * Lake columns as an Iceberg schema: DuckDB's types (as DESCRIBE names them) mapped to Iceberg's for the Parquet that
 * DuckDB writes, with field ids kept stable across versions (an id, once given to a column path, is never reused),
 * and the name mapping (`schema.name-mapping.default`) by which readers find those ids in files written without them.
 */

export type IcebergType =
  | string
  | { type: 'struct'; fields: IcebergField[] }
  | { type: 'list'; 'element-id': number; element: IcebergType; 'element-required': boolean }
  | { type: 'map'; 'key-id': number; key: IcebergType; 'value-id': number; value: IcebergType; 'value-required': boolean };

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
}

export interface IcebergSchema {
  type: 'struct';
  'schema-id': number;
  fields: IcebergField[];
}

/** A name mapping entry (the Iceberg spec's "Column Projection" appendix). */
export interface MappedField {
  'field-id': number;
  names: string[];
  fields?: MappedField[];
}

/** Field ids by column path (`a`, `a.b`, `a.element`, `a.key`, `a.value`), and the last one given. */
export class FieldIds {
  constructor(
    readonly byPath = new Map<string, number>(),
    public last = 0,
  ) {}

  id(path: string): number {
    let id = this.byPath.get(path);
    if (id === undefined) {
      id = ++this.last;
      this.byPath.set(path, id);
    }
    return id;
  }

  /** The ids an earlier schema gave (to keep them). */
  static fromSchemas(schemas: readonly IcebergSchema[], last: number): FieldIds {
    const ids = new FieldIds(new Map(), last);
    const visit = (type: IcebergType, path: string) => {
      if (typeof type === 'string') return;
      if (type.type === 'struct') for (const f of type.fields) record(f.id, f.type, path ? `${path}.${f.name}` : f.name);
      else if (type.type === 'list') record(type['element-id'], type.element, `${path}.element`);
      else {
        record(type['key-id'], type.key, `${path}.key`);
        record(type['value-id'], type.value, `${path}.value`);
      }
    };
    const record = (id: number, type: IcebergType, path: string) => {
      ids.byPath.set(path, id);
      ids.last = Math.max(ids.last, id);
      visit(type, path);
    };
    for (const s of schemas) visit({ type: 'struct', fields: s.fields }, '');
    return ids;
  }
}

/** A DuckDB type, parsed. */
type Duck =
  | { kind: 'primitive'; name: string; args: string[] }
  | { kind: 'list'; element: Duck }
  | { kind: 'struct'; fields: { name: string; type: Duck }[] }
  | { kind: 'map'; key: Duck; value: Duck };

export function parseDuckType(text: string): Duck {
  const t = text.trim();
  if (t.endsWith(']')) {
    const open = matchingOpen(t);
    return { kind: 'list', element: parseDuckType(t.slice(0, open)) };
  }
  const m = /^([A-Za-z_ ]+?)\s*\((.*)\)$/s.exec(t);
  const head = (m?.[1] ?? t).trim().toUpperCase();
  if (head === 'STRUCT' && m) {
    return {
      kind: 'struct',
      fields: splitTopLevel(m[2]!).map((part) => {
        const f = structField(part);
        return { name: f.name, type: parseDuckType(f.type) };
      }),
    };
  }
  if (head === 'MAP' && m) {
    const [k, v] = splitTopLevel(m[2]!);
    return { kind: 'map', key: parseDuckType(k!), value: parseDuckType(v!) };
  }
  return { kind: 'primitive', name: head, args: m ? splitTopLevel(m[2]!) : [] };
}

const PRIMITIVES: Record<string, string> = {
  BOOLEAN: 'boolean',
  TINYINT: 'int',
  SMALLINT: 'int',
  INTEGER: 'int',
  BIGINT: 'long',
  FLOAT: 'float',
  DOUBLE: 'double',
  // DuckDB writes HUGEINT to Parquet as a DOUBLE.
  HUGEINT: 'double',
  VARCHAR: 'string',
  JSON: 'string',
  ENUM: 'string',
  BLOB: 'binary',
  UUID: 'uuid',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  TIMESTAMPTZ: 'timestamptz',
};

/** A DuckDB type as an Iceberg type; undefined when Iceberg has none for how DuckDB writes it (unsigned, INTERVAL…). */
function icebergType(duck: Duck, path: string, ids: FieldIds): IcebergType | undefined {
  if (duck.kind === 'primitive') {
    if (duck.name === 'DECIMAL' || duck.name === 'NUMERIC') {
      const [p, s] = duck.args.map(Number);
      return `decimal(${p ?? 18}, ${s ?? 3})`;
    }
    return PRIMITIVES[duck.name];
  }
  if (duck.kind === 'list') {
    const elementId = ids.id(`${path}.element`);
    const element = icebergType(duck.element, `${path}.element`, ids);
    return element === undefined ? undefined : { type: 'list', 'element-id': elementId, element, 'element-required': false };
  }
  if (duck.kind === 'map') {
    const keyId = ids.id(`${path}.key`);
    const valueId = ids.id(`${path}.value`);
    const key = icebergType(duck.key, `${path}.key`, ids);
    const value = icebergType(duck.value, `${path}.value`, ids);
    return key === undefined || value === undefined ? undefined : { type: 'map', 'key-id': keyId, key, 'value-id': valueId, value, 'value-required': false };
  }
  const fields: IcebergField[] = [];
  for (const f of duck.fields) {
    const fieldPath = `${path}.${f.name}`;
    const id = ids.id(fieldPath);
    const type = icebergType(f.type, fieldPath, ids);
    if (type === undefined) return undefined;
    fields.push({ id, name: f.name, required: false, type });
  }
  return { type: 'struct', fields };
}

/**
 * The Iceberg schema that reads every file of a snapshot: `columnLists` are the schemas its files were written with
 * (one per write), merged by name, each column's type the one all its files' types promote to as Iceberg allows
 * (int → long, float → double, a decimal to a wider one of the same scale; structs field by field, lists, maps).
 * A column Iceberg cannot type, or whose files hold types no single one reads, is left out and listed with why.
 */
export function icebergSchema(columnLists: readonly (readonly ColumnInfo[])[], schemaId: number, ids: FieldIds): { schema: IcebergSchema; omitted: string[] } {
  const merged = new Map<string, { type: IcebergType | undefined; why?: string; ducks: Set<string> }>();
  for (const columns of columnLists) {
    for (const c of columns) {
      ids.id(c.name); // the column's id before its children's
      const type = icebergType(parseDuckType(c.type), c.name, ids);
      const seen = merged.get(c.name);
      if (!seen) {
        merged.set(c.name, { type, ducks: new Set([c.type]), ...(type === undefined ? { why: `${c.type} has no Iceberg type` } : {}) });
        continue;
      }
      seen.ducks.add(c.type);
      if (seen.type === undefined) continue;
      const promoted = type === undefined ? undefined : promote(seen.type, type);
      if (promoted === undefined) {
        seen.type = undefined;
        seen.why = type === undefined ? `${c.type} has no Iceberg type` : `its files hold ${[...seen.ducks].join(' and ')}, which no one Iceberg type reads`;
      } else seen.type = promoted;
    }
  }
  const fields: IcebergField[] = [];
  const omitted: string[] = [];
  for (const [name, m] of merged) {
    if (m.type === undefined) omitted.push(`${name}: ${m.why}`);
    else fields.push({ id: ids.id(name), name, required: false, type: m.type });
  }
  return { schema: { type: 'struct', 'schema-id': schemaId, fields }, omitted };
}

/** The type that reads values of both, by Iceberg's promotions; undefined when there is none. */
export function promote(a: IcebergType, b: IcebergType): IcebergType | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  if (typeof a === 'string' && typeof b === 'string') {
    const pair = new Set([a, b]);
    if (pair.has('int') && pair.has('long')) return 'long';
    if (pair.has('float') && pair.has('double')) return 'double';
    const da = /^decimal\((\d+), (\d+)\)$/.exec(a);
    const db = /^decimal\((\d+), (\d+)\)$/.exec(b);
    if (da && db && da[2] === db[2]) return `decimal(${Math.max(Number(da[1]), Number(db[1]))}, ${da[2]})`;
    return undefined;
  }
  if (typeof a === 'string' || typeof b === 'string' || a.type !== b.type) return undefined;
  if (a.type === 'list' && b.type === 'list') {
    const element = promote(a.element, b.element);
    return element === undefined ? undefined : { ...a, element };
  }
  if (a.type === 'map' && b.type === 'map') {
    const value = promote(a.value, b.value);
    return value === undefined || JSON.stringify(a.key) !== JSON.stringify(b.key) ? undefined : { ...a, value };
  }
  if (a.type === 'struct' && b.type === 'struct') {
    const fields = [...a.fields];
    for (const f of b.fields) {
      const i = fields.findIndex((x) => x.name === f.name);
      if (i < 0) {
        fields.push(f);
        continue;
      }
      const type = promote(fields[i]!.type, f.type);
      if (type === undefined) return undefined;
      fields[i] = { ...fields[i]!, type };
    }
    return { type: 'struct', fields };
  }
  return undefined;
}

/** The name mapping of every schema's fields (their ids by name), merged: files of any version read by name. */
export function nameMapping(schemas: readonly IcebergSchema[]): MappedField[] {
  const merge = (into: Map<number, MappedField>, fields: readonly IcebergField[]) => {
    for (const f of fields) {
      const entry = into.get(f.id) ?? { 'field-id': f.id, names: [] };
      if (!entry.names.includes(f.name)) entry.names.push(f.name);
      const nested = nestedOf(f.type);
      if (nested.length) {
        const children = new Map((entry.fields ?? []).map((c) => [c['field-id'], c]));
        merge(children, nested);
        entry.fields = [...children.values()];
      }
      into.set(f.id, entry);
    }
  };
  const top = new Map<number, MappedField>();
  for (const s of schemas) merge(top, s.fields);
  return [...top.values()];
}

/** A type's children as fields, for the name mapping (a list's `element`, a map's `key` and `value`). */
function nestedOf(type: IcebergType): IcebergField[] {
  if (typeof type === 'string') return [];
  if (type.type === 'struct') return type.fields;
  if (type.type === 'list') return [{ id: type['element-id'], name: 'element', required: false, type: type.element }];
  return [
    { id: type['key-id'], name: 'key', required: true, type: type.key },
    { id: type['value-id'], name: 'value', required: false, type: type.value },
  ];
}
