import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type AvroJson, parseAvro, readIssues } from '../src/registry/avro/compatibility.js';

const avsc = createRequire(import.meta.url)('avsc') as typeof import('avsc');

// Avro schema resolution, case by case: can data written with `writer` be read with `reader`? Each verdict is also
// asked of avsc (a maintained Avro implementation), whose resolver refuses exactly what the specification refuses.
const record = (fields: unknown[], extra: Record<string, unknown> = {}): AvroJson => ({
  type: 'record',
  name: 'UserActivity',
  namespace: 'com.monitoring.streaming',
  fields,
  ...extra,
});
const f = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({ name, type, ...extra });
const eventType = (symbols: string[], extra: Record<string, unknown> = {}) => ({ type: 'enum', name: 'EventType', symbols, ...extra });

interface Case {
  name: string;
  writer: AvroJson;
  reader: AvroJson;
  ok: boolean;
  /** For refusals: what the reason names. */
  reason?: RegExp;
}

const cases: Case[] = [
  {
    name: 'added field with a default',
    writer: record([f('id', 'string')]),
    reader: record([f('id', 'string'), f('page_id', ['null', 'string'], { default: null })]),
    ok: true,
  },
  {
    name: 'added field without a default',
    writer: record([f('id', 'string')]),
    reader: record([f('id', 'string'), f('page_id', 'string')]),
    ok: false,
    reason: /\/fields\/page_id: field page_id \(string\) is not written and has no default/,
  },
  { name: 'removed field', writer: record([f('id', 'string'), f('page_id', 'string')]), reader: record([f('id', 'string')]), ok: true },
  { name: 'int promoted to long', writer: record([f('n', 'int')]), reader: record([f('n', 'long')]), ok: true },
  { name: 'int promoted to float', writer: record([f('n', 'int')]), reader: record([f('n', 'float')]), ok: true },
  { name: 'long promoted to double', writer: record([f('n', 'long')]), reader: record([f('n', 'double')]), ok: true },
  { name: 'float promoted to double', writer: record([f('n', 'float')]), reader: record([f('n', 'double')]), ok: true },
  {
    name: 'long narrowed to int',
    writer: record([f('n', 'long')]),
    reader: record([f('n', 'int')]),
    ok: false,
    reason: /\/fields\/n: type long cannot be read as int/,
  },
  {
    name: 'double narrowed to float',
    writer: record([f('n', 'double')]),
    reader: record([f('n', 'float')]),
    ok: false,
    reason: /double cannot be read as float/,
  },
  { name: 'string read as bytes', writer: record([f('s', 'string')]), reader: record([f('s', 'bytes')]), ok: true },
  { name: 'bytes read as string', writer: record([f('s', 'bytes')]), reader: record([f('s', 'string')]), ok: true },
  { name: 'string read as int', writer: record([f('s', 'string')]), reader: record([f('s', 'int')]), ok: false, reason: /string cannot be read as int/ },
  {
    name: 'enum symbol added by the reader',
    writer: record([f('event_type', eventType(['CLICK', 'VIEW']))]),
    reader: record([f('event_type', eventType(['CLICK', 'VIEW', 'PURCHASE']))]),
    ok: true,
  },
  {
    name: 'enum symbol removed, no default',
    writer: record([f('event_type', eventType(['CLICK', 'VIEW', 'LOGOUT']))]),
    reader: record([f('event_type', eventType(['CLICK', 'VIEW']))]),
    ok: false,
    reason: /symbols LOGOUT are not among the reader's, which has no default/,
  },
  {
    name: 'enum symbol removed, with a default',
    writer: record([f('event_type', eventType(['CLICK', 'VIEW', 'LOGOUT']))]),
    reader: record([f('event_type', eventType(['CLICK', 'VIEW'], { default: 'VIEW' }))]),
    ok: true,
  },
  { name: 'union widened from a type', writer: record([f('page_id', 'string')]), reader: record([f('page_id', ['null', 'string'])]), ok: true },
  { name: 'union widened', writer: record([f('v', ['null', 'string'])]), reader: record([f('v', ['null', 'string', 'long'])]), ok: true },
  {
    name: 'union narrowed to a type',
    writer: record([f('page_id', ['null', 'string'])]),
    reader: record([f('page_id', 'string')]),
    ok: false,
    reason: /union branch 0 \(null\) cannot be read as string/,
  },
  { name: 'union narrowed', writer: record([f('v', ['string', 'int'])]), reader: record([f('v', ['string'])]), ok: false, reason: /int is in no branch/ },
  { name: 'union branch promoted', writer: record([f('v', ['null', 'int'])]), reader: record([f('v', ['null', 'long'])]), ok: true },
  {
    name: 'field renamed, old name an alias',
    writer: record([f('user', 'string')]),
    reader: record([f('user_id', 'string', { aliases: ['user'] })]),
    ok: true,
  },
  {
    name: 'field renamed without an alias',
    writer: record([f('user', 'string')]),
    reader: record([f('user_id', 'string')]),
    ok: false,
    reason: /field user_id \(string\) is not written/,
  },
  {
    name: 'record renamed, old name an alias',
    writer: record([f('id', 'string')]),
    reader: record([f('id', 'string')], { name: 'Activity', aliases: ['com.monitoring.streaming.UserActivity'] }),
    ok: true,
  },
  {
    name: 'record renamed',
    writer: record([f('id', 'string')]),
    reader: record([f('id', 'string')], { name: 'Activity' }),
    ok: false,
    reason: /the names differ/,
  },
  {
    name: 'nested record, a field narrowed',
    writer: record([f('meta', { type: 'record', name: 'Meta', fields: [f('n', 'long')] })]),
    reader: record([f('meta', { type: 'record', name: 'Meta', fields: [f('n', 'int')] })]),
    ok: false,
    reason: /\/fields\/meta\/fields\/n: type long cannot be read as int/,
  },
  {
    name: 'nested record, a field added with a default',
    writer: record([f('meta', { type: 'record', name: 'Meta', fields: [f('n', 'long')] })]),
    reader: record([f('meta', { type: 'record', name: 'Meta', fields: [f('n', 'long'), f('m', 'string', { default: '' })] })]),
    ok: true,
  },
  {
    name: 'array items promoted',
    writer: record([f('a', { type: 'array', items: 'int' })]),
    reader: record([f('a', { type: 'array', items: 'long' })]),
    ok: true,
  },
  {
    name: 'map values changed',
    writer: record([f('metadata', { type: 'map', values: 'string' })]),
    reader: record([f('metadata', { type: 'map', values: 'int' })]),
    ok: false,
    reason: /\/fields\/metadata\/values: type string cannot be read as int/,
  },
  {
    name: 'array read as map',
    writer: record([f('a', { type: 'array', items: 'string' })]),
    reader: record([f('a', { type: 'map', values: 'string' })]),
    ok: false,
  },
  {
    name: 'timestamp-millis read as long',
    writer: record([f('timestamp', { type: 'long', logicalType: 'timestamp-millis' })]),
    reader: record([f('timestamp', 'long')]),
    ok: true,
  },
  {
    name: 'long read as timestamp-micros',
    writer: record([f('timestamp', 'long')]),
    reader: record([f('timestamp', { type: 'long', logicalType: 'timestamp-micros' })]),
    ok: true,
  },
  {
    name: 'decimal bytes read as string',
    writer: record([f('amount', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 })]),
    reader: record([f('amount', 'string')]),
    ok: true,
  },
  {
    name: 'fixed of another size',
    writer: record([f('h', { type: 'fixed', name: 'Hash', size: 16 })]),
    reader: record([f('h', { type: 'fixed', name: 'Hash', size: 32 })]),
    ok: false,
    reason: /size 16 cannot be read as size 32/,
  },
  {
    name: 'recursive record',
    writer: { type: 'record', name: 'Node', fields: [f('value', 'int'), f('next', ['null', 'Node'], { default: null })] },
    reader: { type: 'record', name: 'Node', fields: [f('value', 'long'), f('next', ['null', 'Node'], { default: null })] },
    ok: true,
  },
  {
    name: 'a named type used again by name',
    writer: record([f('a', eventType(['CLICK'])), f('b', 'EventType')]),
    reader: record([f('a', eventType(['CLICK', 'VIEW'])), f('b', 'com.monitoring.streaming.EventType')]),
    ok: true,
  },
];

describe('Avro schema resolution (compatibility), case by case', () => {
  it.each(cases)('$name', ({ writer, reader, ok, reason }) => {
    const issues = readIssues(parseAvro(reader), parseAvro(writer));
    expect(issues.length === 0, JSON.stringify(issues)).toBe(ok);
    if (reason) expect(issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toMatch(reason);
    // The peer: avsc's resolver is created exactly when the data can be read.
    const readable = (() => {
      try {
        avsc.Type.forSchema(reader as never).createResolver(avsc.Type.forSchema(writer as never));
        return true;
      } catch {
        return false;
      }
    })();
    expect(readable, 'avsc agrees').toBe(ok);
  });
});
