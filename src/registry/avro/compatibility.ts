/**
 * Avro schema resolution (the specification's "Schema Resolution", as Apache Avro's Java `SchemaCompatibility`,
 * which Confluent's registry uses, applies it): can data written with one schema be read with another? Every reason
 * it cannot is returned with the path where it happens, for `contracts check` and the registry's verbose answers.
 *
 * Logical types follow their underlying type, as in Java's checker (a `timestamp-millis` is a `long`).
 */

/** An Avro schema as JSON: a type name, a complex type, or a union (an array). */
export type AvroJson = string | AvroJson[] | { [key: string]: unknown };

export interface AvroIssue {
  /** Where, as a path from the top: `/fields/metadata/type/values`. */
  path: string;
  /** Why the reader cannot read what the writer wrote, in words. */
  message: string;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
/** Writer type → reader types it is promoted to. */
const PROMOTIONS: Record<string, readonly string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

/** A resolved node: named references replaced by their definitions (shared, so recursion terminates). */
type Node =
  | { kind: 'primitive'; type: string }
  | { kind: 'record'; fullName: string; name: string; aliases: string[]; fields: FieldNode[] }
  | { kind: 'enum'; fullName: string; name: string; aliases: string[]; symbols: string[]; default?: string }
  | { kind: 'fixed'; fullName: string; name: string; aliases: string[]; size: number }
  | { kind: 'array'; items: Node }
  | { kind: 'map'; values: Node }
  | { kind: 'union'; branches: Node[] };

interface FieldNode {
  name: string;
  aliases: string[];
  type: Node;
  hasDefault: boolean;
}

/** Named types known to a parse: the schema's own, and those of its references. */
export class AvroNames {
  readonly types = new Map<string, Node>();
}

/** Parses an Avro schema (JSON) into resolved nodes; names declared in it are added to `names`. */
export function parseAvro(schema: AvroJson, names = new AvroNames()): Node {
  const pending: (() => void)[] = [];
  const node = build(schema, '', names, pending, '');
  for (const resolve of pending) resolve();
  return node;
}

function fullNameOf(name: string, namespace: string | undefined, enclosing: string): string {
  if (name.includes('.')) return name;
  const ns = namespace ?? enclosing;
  return ns ? `${ns}.${name}` : name;
}

function build(schema: AvroJson, enclosing: string, names: AvroNames, pending: (() => void)[], at: string): Node {
  if (typeof schema === 'string') {
    if (PRIMITIVES.has(schema)) return { kind: 'primitive', type: schema };
    // A reference to a named type, resolved once every name is known (it may be declared later, or recursive).
    const ref: { kind: 'union'; branches: Node[] } = { kind: 'union', branches: [] };
    const holder = ref as unknown as Record<string, unknown>;
    pending.push(() => {
      const target = names.types.get(fullNameOf(schema, undefined, enclosing)) ?? names.types.get(schema);
      if (!target) throw new Error(`${at || '/'}: unknown type "${schema}"`);
      for (const k of Object.keys(holder)) delete holder[k];
      Object.assign(holder, target);
    });
    return ref;
  }
  if (Array.isArray(schema)) return { kind: 'union', branches: schema.map((s, i) => build(s, enclosing, names, pending, `${at}/${i}`)) };
  const type = schema.type as AvroJson;
  if (typeof type !== 'string') return build(type, enclosing, names, pending, `${at}/type`);
  const aliases = (schema.aliases as string[] | undefined) ?? [];
  switch (type) {
    case 'record':
    case 'error': {
      const name = String(schema.name);
      const fullName = fullNameOf(name, schema.namespace as string | undefined, enclosing);
      const ns = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : '';
      const node: Node = { kind: 'record', fullName, name: fullName.slice(fullName.lastIndexOf('.') + 1), aliases, fields: [] };
      names.types.set(fullName, node);
      for (const f of (schema.fields as Record<string, unknown>[] | undefined) ?? []) {
        node.fields.push({
          name: String(f.name),
          aliases: (f.aliases as string[] | undefined) ?? [],
          type: build(f.type as AvroJson, ns, names, pending, `${at}/fields/${String(f.name)}`),
          hasDefault: 'default' in f,
        });
      }
      return node;
    }
    case 'enum': {
      const name = String(schema.name);
      const fullName = fullNameOf(name, schema.namespace as string | undefined, enclosing);
      const node: Node = {
        kind: 'enum',
        fullName,
        name: fullName.slice(fullName.lastIndexOf('.') + 1),
        aliases,
        symbols: (schema.symbols as string[]) ?? [],
        ...(typeof schema.default === 'string' ? { default: schema.default } : {}),
      };
      names.types.set(fullName, node);
      return node;
    }
    case 'fixed': {
      const name = String(schema.name);
      const fullName = fullNameOf(name, schema.namespace as string | undefined, enclosing);
      const node: Node = { kind: 'fixed', fullName, name: fullName.slice(fullName.lastIndexOf('.') + 1), aliases, size: Number(schema.size) };
      names.types.set(fullName, node);
      return node;
    }
    case 'array':
      return { kind: 'array', items: build(schema.items as AvroJson, enclosing, names, pending, `${at}/items`) };
    case 'map':
      return { kind: 'map', values: build(schema.values as AvroJson, enclosing, names, pending, `${at}/values`) };
    default:
      // A primitive with attributes ({"type": "long", "logicalType": "timestamp-millis"}), or a named reference.
      return build(type, enclosing, names, pending, at);
  }
}

function describe(node: Node): string {
  switch (node.kind) {
    case 'primitive':
      return node.type;
    case 'record':
    case 'enum':
    case 'fixed':
      return `${node.kind} ${node.fullName}`;
    case 'array':
      return `array<${describe(node.items)}>`;
    case 'map':
      return `map<${describe(node.values)}>`;
    case 'union':
      return `union [${node.branches.map(describe).join(', ')}]`;
  }
}

function namesMatch(reader: { name: string; aliases: string[] }, writer: { name: string; fullName: string }): boolean {
  return reader.name === writer.name || reader.aliases.includes(writer.fullName) || reader.aliases.includes(writer.name);
}

/** Why data written with `writer` cannot be read with `reader` (empty: it can). */
export function readIssues(reader: Node, writer: Node): AvroIssue[] {
  const issues: AvroIssue[] = [];
  check(reader, writer, '', issues, new Set());
  return issues;
}

function check(reader: Node, writer: Node, path: string, issues: AvroIssue[], seen: Set<string>): void {
  const at = path || '/';
  // A writer union: every branch it may have written must be readable.
  if (writer.kind === 'union') {
    for (const [i, branch] of writer.branches.entries()) {
      const sub: AvroIssue[] = [];
      check(reader, branch, path, sub, seen);
      if (sub.length) issues.push({ path: at, message: `the writer's union branch ${i} (${describe(branch)}) cannot be read as ${describe(reader)}` }, ...sub);
    }
    return;
  }
  if (reader.kind === 'union') {
    const readable = reader.branches.some((b) => {
      const sub: AvroIssue[] = [];
      check(b, writer, path, sub, seen);
      return sub.length === 0;
    });
    if (!readable) issues.push({ path: at, message: `${describe(writer)} is in no branch of the reader's ${describe(reader)}` });
    return;
  }
  if (reader.kind === 'primitive' && writer.kind === 'primitive') {
    if (reader.type === writer.type || PROMOTIONS[writer.type]?.includes(reader.type)) return;
    issues.push({ path: at, message: `type ${writer.type} cannot be read as ${reader.type}` });
    return;
  }
  if (reader.kind !== writer.kind) {
    issues.push({ path: at, message: `${describe(writer)} cannot be read as ${describe(reader)}` });
    return;
  }
  switch (reader.kind) {
    case 'array':
      check(reader.items, (writer as typeof reader).items, `${path}/items`, issues, seen);
      return;
    case 'map':
      check(reader.values, (writer as typeof reader).values, `${path}/values`, issues, seen);
      return;
    case 'fixed': {
      const w = writer as typeof reader;
      if (!namesMatch(reader, w)) issues.push({ path: at, message: `fixed ${w.fullName} cannot be read as fixed ${reader.fullName}: the names differ` });
      else if (reader.size !== w.size) issues.push({ path: at, message: `fixed ${reader.fullName}: size ${w.size} cannot be read as size ${reader.size}` });
      return;
    }
    case 'enum': {
      const w = writer as typeof reader;
      if (!namesMatch(reader, w)) {
        issues.push({ path: at, message: `enum ${w.fullName} cannot be read as enum ${reader.fullName}: the names differ` });
        return;
      }
      const missing = w.symbols.filter((s) => !reader.symbols.includes(s));
      if (missing.length && reader.default === undefined)
        issues.push({
          path: `${path}/symbols`,
          message: `enum ${reader.fullName}: the writer's symbols ${missing.join(', ')} are not among the reader's, which has no default`,
        });
      return;
    }
    case 'record': {
      const w = writer as typeof reader;
      if (!namesMatch(reader, w)) {
        issues.push({ path: at, message: `record ${w.fullName} cannot be read as record ${reader.fullName}: the names differ` });
        return;
      }
      // Recursive records: a pair already being compared is assumed compatible (as Java's checker does).
      const pair = `${reader.fullName}\u0000${w.fullName}`;
      if (seen.has(pair)) return;
      seen.add(pair);
      for (const field of reader.fields) {
        const written = w.fields.find((f) => f.name === field.name) ?? w.fields.find((f) => field.aliases.includes(f.name));
        if (!written) {
          if (!field.hasDefault)
            issues.push({ path: `${path}/fields/${field.name}`, message: `field ${field.name} (${describe(field.type)}) is not written and has no default` });
          continue;
        }
        check(field.type, written.type, `${path}/fields/${field.name}`, issues, seen);
      }
      seen.delete(pair);
      return;
    }
  }
}
