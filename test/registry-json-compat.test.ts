import { describe, expect, it } from 'vitest';
import { type JsonSchema, jsonReadIssues } from '../src/registry/json/compatibility.js';
import { compileJsonSchema } from '../src/registry/json/validator.js';
import { SchemaRegistry } from '../src/registry/registry.js';
import { openCatalog } from '../src/catalog/open.js';
import { tempDir } from './support/helpers.js';

// JSON Schema compatibility, case by case: can documents written under `writer` be read under `reader`? Each verdict
// is checked against ajv on real documents: for a compatible pair, every sample the writer accepts the reader accepts;
// for a refusal, the witness is a document the writer accepts and the reader refuses (the break is real, not a guess).
const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}): JsonSchema => ({ type: 'object', properties, ...extra });
const closed = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => object(properties, { additionalProperties: false, ...extra });

interface Case {
  name: string;
  writer: JsonSchema;
  reader: JsonSchema;
  ok: boolean;
  /** Documents the writer accepts: the reader must accept them all (ok) or refuse the first (a refusal's witness). */
  docs: unknown[];
  reason?: RegExp;
}

const cases: Case[] = [
  {
    name: 'optional property added to a closed model',
    writer: closed({ id: { type: 'string' } }),
    reader: closed({ id: { type: 'string' }, page_id: { type: 'string' } }),
    ok: true,
    docs: [{ id: 'a' }],
  },
  {
    name: 'property added to an open model',
    writer: object({ id: { type: 'string' } }),
    reader: object({ id: { type: 'string' }, page_id: { type: 'string' } }),
    ok: false,
    docs: [{ id: 'a', page_id: 42 }],
    reason: /\/properties\/page_id: PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL/,
  },
  {
    name: 'property that accepts anything added to an open model',
    writer: object({ id: { type: 'string' } }),
    reader: object({ id: { type: 'string' }, note: {} }),
    ok: true,
    docs: [{ id: 'a', note: 3 }],
  },
  {
    name: 'required property added without a default',
    writer: closed({ id: { type: 'string' } }),
    reader: closed({ id: { type: 'string' }, page_id: { type: 'string' } }, { required: ['page_id'] }),
    ok: false,
    docs: [{ id: 'a' }],
    reason: /REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: required property page_id/,
  },
  {
    name: 'existing property made required',
    writer: closed({ id: { type: 'string' } }),
    reader: closed({ id: { type: 'string' } }, { required: ['id'] }),
    ok: false,
    docs: [{}],
    reason: /\/required: REQUIRED_ATTRIBUTE_ADDED: property id/,
  },
  {
    name: 'required removed',
    writer: closed({ id: { type: 'string' } }, { required: ['id'] }),
    reader: closed({ id: { type: 'string' } }),
    ok: true,
    docs: [{ id: 'a' }],
  },
  {
    name: 'property removed from an open model',
    writer: object({ id: { type: 'string' }, page_id: { type: 'string' } }),
    reader: object({ id: { type: 'string' } }),
    ok: true,
    docs: [{ id: 'a', page_id: 'p' }],
  },
  {
    name: 'property removed from a closed model',
    writer: closed({ id: { type: 'string' }, page_id: { type: 'string' } }),
    reader: closed({ id: { type: 'string' } }),
    ok: false,
    docs: [{ id: 'a', page_id: 'p' }],
    reason: /\/properties\/page_id: PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL/,
  },
  {
    name: 'removed property covered by a partially open model',
    writer: closed({ id: { type: 'string' }, x_tag: { type: 'string' } }),
    reader: object({ id: { type: 'string' } }, { patternProperties: { '^x_': { type: 'string' } }, additionalProperties: false }),
    ok: true,
    docs: [{ id: 'a', x_tag: 't' }],
  },
  { name: 'integer widened to number', writer: object({ n: { type: 'integer' } }), reader: object({ n: { type: 'number' } }), ok: true, docs: [{ n: 3 }] },
  {
    name: 'number narrowed to integer',
    writer: object({ n: { type: 'number' } }),
    reader: object({ n: { type: 'integer' } }),
    ok: false,
    docs: [{ n: 1.5 }],
    reason: /\/properties\/n\/type: TYPE_NARROWED: the new schema does not accept number/,
  },
  {
    name: 'type extended with null',
    writer: object({ p: { type: 'string' } }),
    reader: object({ p: { type: ['string', 'null'] } }),
    ok: true,
    docs: [{ p: 'x' }],
  },
  {
    name: 'null removed from a type',
    writer: object({ p: { type: ['string', 'null'] } }),
    reader: object({ p: { type: 'string' } }),
    ok: false,
    docs: [{ p: null }],
    reason: /TYPE_NARROWED: the new schema does not accept null/,
  },
  {
    name: 'string changed to integer',
    writer: object({ id: { type: 'string' } }),
    reader: object({ id: { type: 'integer' } }),
    ok: false,
    docs: [{ id: 'a' }],
    reason: /\/properties\/id\/type: TYPE_NARROWED/,
  },
  {
    name: 'enum extended',
    writer: object({ e: { enum: ['CLICK', 'VIEW'] } }),
    reader: object({ e: { enum: ['CLICK', 'VIEW', 'LOGIN'] } }),
    ok: true,
    docs: [{ e: 'VIEW' }],
  },
  {
    name: 'enum narrowed',
    writer: object({ e: { enum: ['CLICK', 'VIEW'] } }),
    reader: object({ e: { enum: ['CLICK'] } }),
    ok: false,
    docs: [{ e: 'VIEW' }],
    reason: /ENUM_ARRAY_NARROWED: value\(s\) "VIEW" removed/,
  },
  {
    name: 'maxLength decreased',
    writer: object({ s: { type: 'string', maxLength: 10 } }),
    reader: object({ s: { type: 'string', maxLength: 5 } }),
    ok: false,
    docs: [{ s: 'abcdefgh' }],
    reason: /MAX_LENGTH_DECREASED: maxLength 10 → 5/,
  },
  {
    name: 'maxLength increased',
    writer: object({ s: { type: 'string', maxLength: 5 } }),
    reader: object({ s: { type: 'string', maxLength: 10 } }),
    ok: true,
    docs: [{ s: 'abc' }],
  },
  { name: 'minimum removed', writer: object({ n: { type: 'number', minimum: 0 } }), reader: object({ n: { type: 'number' } }), ok: true, docs: [{ n: 1 }] },
  {
    name: 'minimum added',
    writer: object({ n: { type: 'number' } }),
    reader: object({ n: { type: 'number', minimum: 0 } }),
    ok: false,
    docs: [{ n: -1 }],
    reason: /MINIMUM_ADDED: minimum 0 added/,
  },
  {
    name: 'pattern added',
    writer: object({ s: { type: 'string' } }),
    reader: object({ s: { type: 'string', pattern: '^[a-z]+$' } }),
    ok: false,
    docs: [{ s: 'ABC' }],
    reason: /PATTERN_ADDED/,
  },
  {
    name: 'additionalProperties removed (closed)',
    writer: object({ id: { type: 'string' } }),
    reader: closed({ id: { type: 'string' } }),
    ok: false,
    docs: [{ id: 'a', other: 1 }],
    reason: /\/additionalProperties: ADDITIONAL_PROPERTIES_REMOVED/,
  },
  {
    name: 'additionalProperties opened',
    writer: closed({ id: { type: 'string' } }),
    reader: object({ id: { type: 'string' } }),
    ok: true,
    docs: [{ id: 'a' }],
  },
  {
    name: 'map values narrowed (additionalProperties schema)',
    writer: { type: 'object', additionalProperties: { type: 'string' } },
    reader: { type: 'object', additionalProperties: { type: 'integer' } },
    ok: false,
    docs: [{ k: 'v' }],
    reason: /ADDITIONAL_PROPERTIES_NARROWED/,
  },
  {
    name: 'array items widened',
    writer: { type: 'array', items: { type: 'integer' } },
    reader: { type: 'array', items: { type: 'number' } },
    ok: true,
    docs: [[1, 2]],
  },
  {
    name: 'array items narrowed',
    writer: { type: 'array', items: { type: 'string' } },
    reader: { type: 'array', items: { type: 'string', maxLength: 1 } },
    ok: false,
    docs: [['ab']],
    reason: /\/items\/maxLength: MAX_LENGTH_ADDED/,
  },
  {
    name: 'uniqueItems added',
    writer: { type: 'array', items: { type: 'string' } },
    reader: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    ok: false,
    docs: [['a', 'a']],
    reason: /UNIQUE_ITEMS_ADDED/,
  },
  {
    name: 'nested object property type changed',
    writer: object({ meta: object({ page: { type: 'string' } }) }),
    reader: object({ meta: object({ page: { type: 'boolean' } }) }),
    ok: false,
    docs: [{ meta: { page: 'p' } }],
    reason: /\/properties\/meta\/properties\/page\/type: TYPE_NARROWED/,
  },
  {
    name: 'oneOf extended',
    writer: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    reader: { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }] },
    ok: true,
    docs: ['a', 1],
  },
  {
    name: 'oneOf narrowed',
    writer: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    reader: { oneOf: [{ type: 'string' }] },
    ok: false,
    docs: [1],
    reason: /COMBINED_TYPE_SUBSCHEMAS_CHANGED/,
  },
  {
    name: 'a type becomes one alternative of a oneOf',
    writer: { type: 'string' },
    reader: { oneOf: [{ type: 'string' }, { type: 'null' }] },
    ok: true,
    docs: ['a'],
  },
  {
    name: 'local $ref followed on both sides',
    writer: { definitions: { Id: { type: 'integer' } }, type: 'object', properties: { id: { $ref: '#/definitions/Id' } } },
    reader: { $defs: { Id: { type: 'string' } }, type: 'object', properties: { id: { $ref: '#/$defs/Id' } } },
    ok: false,
    docs: [{ id: 1 }],
    reason: /\/properties\/id\/type: TYPE_NARROWED/,
  },
  {
    name: 'recursive schema unchanged',
    writer: { $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } }, $ref: '#/$defs/Node' },
    reader: { $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } }, $ref: '#/$defs/Node' },
    ok: true,
    docs: [{ next: { next: {} } }],
  },
  { name: 'anything to anything', writer: {}, reader: true, ok: true, docs: [1, 'a', null] },
  { name: 'a constraint on what accepted anything', writer: true, reader: { type: 'string' }, ok: false, docs: [1], reason: /TYPE_NARROWED/ },
];

describe('JSON Schema compatibility (reader reads what writer wrote)', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.ok ? 'compatible' : 'refused'}`, () => {
      const issues = jsonReadIssues(c.reader, c.writer);
      const writer = compileJsonSchema(c.writer);
      const reader = compileJsonSchema(c.reader);
      for (const doc of c.docs) expect(writer(doc), `the writer accepts ${JSON.stringify(doc)}`).toBe(true);
      if (c.ok) {
        expect(issues).toEqual([]);
        for (const doc of c.docs) expect(reader(doc), `the reader accepts ${JSON.stringify(doc)}`).toBe(true);
      } else {
        expect(issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toMatch(c.reason!);
        expect(reader(c.docs[0]), `the reader refuses the witness ${JSON.stringify(c.docs[0])}`).toBe(false);
      }
    });
  }
});

describe('JSON schemas in the registry', () => {
  it('registers JSON schemas by type, refuses an invalid one with 42201, checks compatibility under the subject level, and resolves references by name', async () => {
    const dir = tempDir('json-registry-');
    const catalog = await openCatalog({ kind: 'embedded', path: `${dir}/catalog.duckdb` });
    try {
      const registry = new SchemaRegistry(catalog.driver);
      const v1 = closed({ id: { type: 'string' } });
      const a = await registry.register('orders-value', { schemaType: 'JSON', schema: JSON.stringify(v1) });
      // The same schema, written differently (spacing), keeps its id; under another subject too.
      const again = await registry.register('orders-value', { schemaType: 'json', schema: JSON.stringify(v1, null, 2) });
      expect(again.id).toBe(a.id);
      expect((await registry.register('archive-value', { schemaType: 'JSON', schema: JSON.stringify(v1) })).id).toBe(a.id);
      expect((await registry.schemaById(a.id)).schemaType).toBe('JSON');

      await expect(registry.register('orders-value', { schemaType: 'JSON', schema: '{"type": "strnig"}' })).rejects.toMatchObject({ errorCode: 42201 });
      await expect(registry.register('orders-value', { schemaType: 'JSON', schema: '[1]' })).rejects.toMatchObject({ errorCode: 42201 });

      // BACKWARD (the default): a new optional property in a closed model is accepted; making it required is not.
      const v2 = closed({ id: { type: 'string' }, note: { type: 'string' } });
      expect((await registry.checkCompatibility('orders-value', { schemaType: 'JSON', schema: JSON.stringify(v2) })).compatible).toBe(true);
      await registry.register('orders-value', { schemaType: 'JSON', schema: JSON.stringify(v2) });
      const v3 = closed({ id: { type: 'string' }, note: { type: 'string' } }, { required: ['note'] });
      const verdict = await registry.checkCompatibility('orders-value', { schemaType: 'JSON', schema: JSON.stringify(v3) });
      expect(verdict.compatible).toBe(false);
      expect(verdict.messages.join('\n')).toMatch(/REQUIRED_ATTRIBUTE_ADDED: property note/);
      await expect(registry.register('orders-value', { schemaType: 'JSON', schema: JSON.stringify(v3) })).rejects.toMatchObject({ errorCode: 409 });

      // A reference: the customer schema imported by name.
      const customer = await registry.register('customer', { schemaType: 'JSON', schema: JSON.stringify(closed({ name: { type: 'string' } })) });
      const withRef = { type: 'object', properties: { customer: { $ref: 'customer.json' } } };
      const refs = [{ name: 'customer.json', subject: 'customer', version: customer.version }];
      const order = await registry.register('order-ref-value', { schemaType: 'JSON', schema: JSON.stringify(withRef), references: refs });
      expect(order.id).toBeGreaterThan(customer.id);
      // A change through the reference is judged: the referenced property's type narrowed.
      const narrowed = await registry.register('customer', {
        schemaType: 'JSON',
        schema: JSON.stringify(closed({ name: { type: 'string' }, vip: { type: 'boolean' } })),
      });
      const verdict2 = await registry.checkCompatibility('order-ref-value', {
        schemaType: 'JSON',
        schema: JSON.stringify({ type: 'object', properties: { customer: { $ref: 'customer.json' }, total: { type: 'number' } }, additionalProperties: true }),
        references: [{ name: 'customer.json', subject: 'customer', version: narrowed.version }],
      });
      expect(verdict2.compatible).toBe(false);
      expect(verdict2.messages.join('\n')).toMatch(/\/properties\/total: PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL/);
    } finally {
      await catalog.close();
    }
  });
});
