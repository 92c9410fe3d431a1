/**
 * JSON Schema compatibility, as Confluent's registry defines it: a reader schema can read what a writer schema wrote
 * when every document the writer's schema accepts, the reader's accepts too (BACKWARD: the new schema is the reader;
 * FORWARD: the old one). The check walks both schemas side by side and names each difference with Confluent's
 * difference type (`TYPE_NARROWED`, `PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`, `REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL`…),
 * so that a message reads as Confluent's does. It is structural, not a general proof of inclusion (which is undecidable
 * for JSON Schema): patterns are compared as strings, `not` must be unchanged, and a writer's `allOf` counts as the
 * narrowest of its parts. docs/contracts.md lists the rules with examples.
 */

export type JsonSchema = boolean | { [key: string]: unknown };

export interface JsonIssue {
  /** Where, as a JSON pointer into the reader schema: `/properties/user/type`. */
  path: string;
  message: string;
}

/** Resolves a `$ref` that names another schema (Confluent's references: the name it is imported under). */
export type ExternalSchemas = ReadonlyMap<string, JsonSchema>;

interface Side {
  schema: JsonSchema;
  /** The document the schema is in (local `#/…` pointers resolve in it). */
  root: JsonSchema;
}

type Obj = { [key: string]: unknown };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'] as const;

export function jsonReadIssues(
  reader: JsonSchema,
  writer: JsonSchema,
  readerRefs: ExternalSchemas = new Map(),
  writerRefs: ExternalSchemas = new Map(),
): JsonIssue[] {
  const issues: JsonIssue[] = [];
  const seen = new Map<object, Set<object>>();
  const ctx: Walk = { issues, seen, readerRefs, writerRefs };
  check(ctx, { schema: reader, root: reader }, { schema: writer, root: writer }, '');
  return issues;
}

interface Walk {
  issues: JsonIssue[];
  seen: Map<object, Set<object>>;
  readerRefs: ExternalSchemas;
  writerRefs: ExternalSchemas;
}

function deref(side: Side, refs: ExternalSchemas, path: string): Side {
  let current = side;
  for (let hops = 0; isObj(current.schema) && typeof current.schema.$ref === 'string' && hops < 32; hops++) {
    const ref = current.schema.$ref as string;
    const hash = ref.indexOf('#');
    const doc = hash < 0 ? ref : ref.slice(0, hash);
    const pointer = hash < 0 ? '' : ref.slice(hash + 1);
    let root = current.root;
    if (doc) {
      const external = refs.get(doc);
      if (external === undefined) throw new Error(`${path || '/'}: $ref ${ref} names no schema among the references`);
      root = external;
    }
    current = { schema: resolvePointer(root, pointer, ref), root };
  }
  return current;
}

function resolvePointer(root: JsonSchema, pointer: string, ref: string): JsonSchema {
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObj(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
    if (node === undefined) throw new Error(`$ref ${ref} points at nothing`);
  }
  return node as JsonSchema;
}

function add(ctx: Walk, path: string, kind: string, message: string): void {
  ctx.issues.push({ path: path || '/', message: `${kind}: ${message}` });
}

/** The types a schema allows (all, when it does not say). `integer` is a subset of `number`. */
function typesOf(s: Obj): Set<string> {
  const t = s.type;
  if (typeof t === 'string') return new Set([t]);
  if (Array.isArray(t)) return new Set(t.filter((x): x is string => typeof x === 'string'));
  return new Set(TYPES);
}

function allows(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === 'integer' && types.has('number'));
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function check(ctx: Walk, readerSide: Side, writerSide: Side, path: string): void {
  const r = deref(readerSide, ctx.readerRefs, path);
  const w = deref(writerSide, ctx.writerRefs, path);
  const reader = r.schema;
  const writer = w.schema;
  // A pair already being compared (recursive schemas) holds unless shown otherwise elsewhere.
  if (isObj(reader) && isObj(writer)) {
    const pairs = ctx.seen.get(reader) ?? new Set<object>();
    if (pairs.has(writer)) return;
    pairs.add(writer);
    ctx.seen.set(reader, pairs);
  }
  if (writer === false) return; // nothing was written
  if (reader === true || (isObj(reader) && Object.keys(reader).every((k) => ANNOTATIONS.has(k)))) return;
  if (reader === false) {
    add(ctx, path, 'TYPE_NARROWED', 'the new schema accepts nothing here (false)');
    return;
  }
  const ro = reader as Obj;
  const wo: Obj = writer === true ? {} : writer;

  // The writer's alternatives: each must be readable.
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(wo[key])) {
      const { [key]: branches, ...rest } = wo;
      for (const b of branches as JsonSchema[]) check(ctx, r, { schema: mergeInto(rest, b), root: w.root }, path);
      return;
    }
  }
  // The reader's alternatives: one must read the writer's documents.
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(ro[key])) {
      const { [key]: branches, ...rest } = ro;
      const tried = (branches as JsonSchema[]).map((b) => {
        const sub: Walk = { ...ctx, issues: [], seen: new Map() };
        check(sub, { schema: mergeInto(rest, b), root: r.root }, w, path);
        return sub.issues;
      });
      if (!tried.some((t) => t.length === 0)) {
        const closest = tried.reduce((a, b) => (b.length < a.length ? b : a));
        add(
          ctx,
          `${path}/${key}`,
          'COMBINED_TYPE_SUBSCHEMAS_CHANGED',
          `no alternative of the new schema reads what the old one accepts (closest: ${closest[0]?.message ?? 'none'})`,
        );
      }
      return;
    }
  }
  if (Array.isArray(ro.allOf)) {
    const { allOf, ...rest } = ro;
    for (const [i, part] of (allOf as JsonSchema[]).entries()) check(ctx, { schema: part, root: r.root }, w, `${path}/allOf/${i}`);
    check(ctx, { schema: rest, root: r.root }, w, path);
    return;
  }
  if (Array.isArray(wo.allOf)) {
    // The writer's documents satisfy every part: readable when one part (with the rest of its schema) is.
    const { allOf, ...rest } = wo;
    const tried = (allOf as JsonSchema[]).map((part) => {
      const sub: Walk = { ...ctx, issues: [], seen: new Map() };
      check(sub, r, { schema: mergeInto(rest, part), root: w.root }, path);
      return sub.issues;
    });
    if (!tried.some((t) => t.length === 0)) ctx.issues.push(...tried[0]!);
    return;
  }
  if (ro.not !== undefined && !equal(ro.not, wo.not))
    add(ctx, `${path}/not`, 'NOT_TYPE_CHANGED', 'the new schema excludes other documents (not) than the old one');

  // Types.
  const rt = typesOf(ro);
  const wt = typesOf(wo);
  const lost = [...wt].filter((t) => !allows(rt, t));
  // A writer that says nothing about its type but constrains it by an enum or const only writes those values.
  const wValues = Array.isArray(wo.enum) ? (wo.enum as unknown[]) : 'const' in wo ? [wo.const] : undefined;
  if (lost.length && !wValues?.every((v) => allows(rt, jsonType(v))))
    add(ctx, `${path}/type`, 'TYPE_NARROWED', `the new schema does not accept ${lost.join(', ')}, which the old one does`);

  // Values.
  const rValues = Array.isArray(ro.enum) ? (ro.enum as unknown[]) : 'const' in ro ? [ro.const] : undefined;
  if (rValues) {
    const missing = wValues ? wValues.filter((v) => !rValues.some((x) => equal(x, v))) : undefined;
    if (!wValues)
      add(
        ctx,
        `${path}/${'enum' in ro ? 'enum' : 'const'}`,
        'ENUM_ARRAY_NARROWED',
        `the new schema allows only ${JSON.stringify(rValues)}; the old one allowed other values`,
      );
    else if (missing?.length) add(ctx, `${path}/enum`, 'ENUM_ARRAY_NARROWED', `value(s) ${missing.map((v) => JSON.stringify(v)).join(', ')} removed`);
  }

  const both = (t: string) => allows(rt, t) && allows(wt, t);
  if (both('string')) {
    bound(ctx, path, ro, wo, 'maxLength', 'upper', 'MAX_LENGTH');
    bound(ctx, path, ro, wo, 'minLength', 'lower', 'MIN_LENGTH');
    if (typeof ro.pattern === 'string' && ro.pattern !== wo.pattern)
      add(ctx, `${path}/pattern`, wo.pattern === undefined ? 'PATTERN_ADDED' : 'PATTERN_CHANGED', `strings must now match ${ro.pattern}`);
  }
  if (both('number') || both('integer')) {
    bound(ctx, path, ro, wo, 'maximum', 'upper', 'MAXIMUM');
    bound(ctx, path, ro, wo, 'minimum', 'lower', 'MINIMUM');
    bound(ctx, path, ro, wo, 'exclusiveMaximum', 'upper', 'EXCLUSIVE_MAXIMUM');
    bound(ctx, path, ro, wo, 'exclusiveMinimum', 'lower', 'EXCLUSIVE_MINIMUM');
    if (typeof ro.multipleOf === 'number') {
      const wm = wo.multipleOf;
      if (typeof wm !== 'number') add(ctx, `${path}/multipleOf`, 'MULTIPLE_OF_ADDED', `numbers must now be multiples of ${ro.multipleOf}`);
      else if (!isMultiple(wm, ro.multipleOf))
        add(ctx, `${path}/multipleOf`, 'MULTIPLE_OF_CHANGED', `multiples of ${wm} are not all multiples of ${ro.multipleOf}`);
    }
  }
  if (both('object')) checkObject(ctx, r, w, ro, wo, path);
  if (both('array')) checkArray(ctx, r, w, ro, wo, path);
}

/** Keywords that do not constrain documents. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  'id',
  'title',
  'description',
  'default',
  'examples',
  '$comment',
  'definitions',
  '$defs',
  'readOnly',
  'writeOnly',
  'deprecated',
]);

/** A branch of a combinator with its parent's other keywords (`{type: object, oneOf: […]}`). */
function mergeInto(rest: Obj, branch: JsonSchema): JsonSchema {
  if (branch === true) return Object.keys(rest).length ? rest : true;
  if (branch === false) return false;
  const constraints = Object.keys(rest).filter((k) => !ANNOTATIONS.has(k));
  if (!constraints.length) return branch;
  return { allOf: [branch, rest] };
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function isMultiple(a: number, b: number): boolean {
  const q = a / b;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

/** A bound the reader has: the writer's must be at least as tight (`upper`: not above it; `lower`: not below). */
function bound(ctx: Walk, path: string, ro: Obj, wo: Obj, key: string, side: 'upper' | 'lower', kind: string): void {
  const rv = ro[key];
  if (typeof rv !== 'number') return;
  const wv = wo[key];
  if (typeof wv !== 'number') {
    add(ctx, `${path}/${key}`, `${kind}_ADDED`, `${key} ${rv} added`);
    return;
  }
  if (side === 'upper' ? wv > rv : wv < rv) add(ctx, `${path}/${key}`, `${kind}_${side === 'upper' ? 'DECREASED' : 'INCREASED'}`, `${key} ${wv} → ${rv}`);
}

function props(s: Obj): Obj {
  return isObj(s.properties) ? s.properties : {};
}

/** What an object schema says of a property it does not declare: its matching pattern, else additionalProperties. */
function undeclared(s: Obj, name: string): { schema: JsonSchema; via: 'pattern' | 'additional' } {
  if (isObj(s.patternProperties))
    for (const [pattern, schema] of Object.entries(s.patternProperties))
      if (safeRegex(pattern)?.test(name)) return { schema: schema as JsonSchema, via: 'pattern' };
  const extra = s.additionalProperties ?? s.unevaluatedProperties;
  return { schema: extra === undefined ? true : (extra as JsonSchema), via: 'additional' };
}

function safeRegex(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

function contentModel(s: Obj): 'open' | 'closed' | 'partially open' {
  const extra = s.additionalProperties ?? s.unevaluatedProperties;
  if (extra === false) return 'closed';
  if (extra === undefined || extra === true) return isObj(s.patternProperties) ? 'partially open' : 'open';
  return 'partially open';
}

function checkObject(ctx: Walk, r: Side, w: Side, ro: Obj, wo: Obj, path: string): void {
  const rp = props(ro);
  const wp = props(wo);
  const rRequired = new Set(Array.isArray(ro.required) ? (ro.required as string[]) : []);
  const wRequired = new Set(Array.isArray(wo.required) ? (wo.required as string[]) : []);
  for (const [name, schema] of Object.entries(rp)) {
    const at = `${path}/properties/${name}`;
    if (name in wp) {
      check(ctx, { schema: schema as JsonSchema, root: r.root }, { schema: wp[name] as JsonSchema, root: w.root }, at);
      continue;
    }
    // Added: what the old schema let documents hold under this name must be readable by the new property.
    const old = undeclared(wo, name);
    const sub: Walk = { ...ctx, issues: [], seen: new Map() };
    check(sub, { schema: schema as JsonSchema, root: r.root }, { schema: old.schema, root: w.root }, at);
    if (sub.issues.length) {
      const model = contentModel(wo);
      add(
        ctx,
        at,
        model === 'open' ? 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL' : 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
        `property ${name} added, but the old schema let documents hold any${model === 'open' ? '' : ' other'} value under that name (close the old schema with additionalProperties: false, or make the property accept anything)`,
      );
    }
    if (rRequired.has(name) && !(isObj(schema) && 'default' in schema))
      add(ctx, at, 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', `required property ${name} added without a default: documents written before lack it`);
  }
  for (const [name, schema] of Object.entries(wp)) {
    if (name in rp) continue;
    const now = undeclared(ro, name);
    const sub: Walk = { ...ctx, issues: [], seen: new Map() };
    check(sub, { schema: now.schema, root: r.root }, { schema: schema as JsonSchema, root: w.root }, `${path}/properties/${name}`);
    if (sub.issues.length)
      add(
        ctx,
        `${path}/properties/${name}`,
        contentModel(ro) === 'closed' ? 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL' : 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
        `property ${name} removed, but documents written before hold it and the new schema does not accept it`,
      );
  }
  for (const name of rRequired) {
    if (wRequired.has(name) || !(name in wp)) continue; // added properties were judged above
    const schema = rp[name];
    if (!(isObj(schema) && 'default' in schema))
      add(ctx, `${path}/required`, 'REQUIRED_ATTRIBUTE_ADDED', `property ${name} is now required: documents written before may lack it`);
  }
  // Properties neither declares: the reader's rule for them must read the writer's.
  const rExtra = ro.additionalProperties ?? ro.unevaluatedProperties;
  const wExtra = wo.additionalProperties ?? wo.unevaluatedProperties;
  if (rExtra !== undefined && rExtra !== true) {
    const sub: Walk = { ...ctx, issues: [], seen: new Map() };
    check(
      sub,
      { schema: rExtra as JsonSchema, root: r.root },
      { schema: wExtra === undefined ? true : (wExtra as JsonSchema), root: w.root },
      `${path}/additionalProperties`,
    );
    if (sub.issues.length)
      add(
        ctx,
        `${path}/additionalProperties`,
        rExtra === false ? 'ADDITIONAL_PROPERTIES_REMOVED' : 'ADDITIONAL_PROPERTIES_NARROWED',
        rExtra === false ? 'the new schema refuses properties it does not declare; the old one accepted them' : sub.issues[0]!.message,
      );
  }
  if (isObj(ro.patternProperties))
    for (const [pattern, schema] of Object.entries(ro.patternProperties)) {
      const old =
        isObj(wo.patternProperties) && pattern in wo.patternProperties
          ? (wo.patternProperties[pattern] as JsonSchema)
          : wExtra === undefined
            ? true
            : (wExtra as JsonSchema);
      check(ctx, { schema: schema as JsonSchema, root: r.root }, { schema: old, root: w.root }, `${path}/patternProperties/${pattern}`);
    }
  bound(ctx, path, ro, wo, 'maxProperties', 'upper', 'MAX_PROPERTIES');
  bound(ctx, path, ro, wo, 'minProperties', 'lower', 'MIN_PROPERTIES');
  if (isObj(ro.dependentRequired) || isObj(ro.dependencies))
    if (!equal(ro.dependentRequired ?? ro.dependencies, wo.dependentRequired ?? wo.dependencies))
      add(ctx, `${path}/dependencies`, 'DEPENDENCY_ARRAY_CHANGED', 'the new schema has other property dependencies than the old one');
}

function checkArray(ctx: Walk, r: Side, w: Side, ro: Obj, wo: Obj, path: string): void {
  const tuple = (s: Obj): JsonSchema[] | undefined =>
    Array.isArray(s.prefixItems) ? (s.prefixItems as JsonSchema[]) : Array.isArray(s.items) ? (s.items as JsonSchema[]) : undefined;
  const rest = (s: Obj): JsonSchema => {
    const v = Array.isArray(s.prefixItems) ? s.items : Array.isArray(s.items) ? s.additionalItems : s.items;
    return v === undefined ? true : (v as JsonSchema);
  };
  const rt = tuple(ro);
  const wt = tuple(wo);
  const n = Math.max(rt?.length ?? 0, wt?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const rs = rt?.[i] ?? rest(ro);
    const ws = wt?.[i] ?? rest(wo);
    check(ctx, { schema: rs, root: r.root }, { schema: ws, root: w.root }, `${path}/items/${i}`);
  }
  check(ctx, { schema: rest(ro), root: r.root }, { schema: rest(wo), root: w.root }, rt || wt ? `${path}/additionalItems` : `${path}/items`);
  bound(ctx, path, ro, wo, 'maxItems', 'upper', 'MAX_ITEMS');
  bound(ctx, path, ro, wo, 'minItems', 'lower', 'MIN_ITEMS');
  if (ro.uniqueItems === true && wo.uniqueItems !== true) add(ctx, `${path}/uniqueItems`, 'UNIQUE_ITEMS_ADDED', 'items must now be unique');
}
