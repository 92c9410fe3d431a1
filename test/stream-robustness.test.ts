import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { agg, windows } from '../src/config/define.js';
import type { StreamConfig } from '../src/config/types.js';
import { Lake } from '../src/lake/lake.js';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import type { LogRecord } from '../src/log/log.js';
import { LAKE_TIME_RANGE } from '../src/streams/decode.js';
import { compileStream } from '../src/streams/definition.js';
import { StreamProcessor } from '../src/streams/processor.js';
import { runStream } from '../src/streams/worker.js';
import { ROOT, tempDir } from './support/helpers.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

const NOW = Date.parse('2026-11-22T10:30:00Z');
const T0 = Date.parse('2026-11-22T10:00:00Z');

function definition(extra: Partial<StreamConfig> = {}): StreamConfig {
  return {
    topic: 'ventes',
    fields: { id: 'string', event_time: 'timestamp', pays: 'string', montant: 'number', quantite: 'integer?' },
    eventTime: 'event_time',
    watermark: '30s',
    outputs: {
      'gold.par_pays': { window: windows.tumbling('1m'), groupBy: ['pays'], aggregates: { total: agg.sum('montant'), n: agg.count() } },
      'gold.glissant': { window: windows.hopping('5m', '1m'), aggregates: { n: agg.count() }, emit: 'on-update' },
      'gold.sessions': { window: windows.session('2m'), groupBy: ['pays'], aggregates: { n: agg.count() } },
    },
    ...extra,
  };
}

let offset = 0;
function record(value: Buffer | string | object | null, partition = 0): LogRecord {
  const bytes = value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { topic: 'ventes', partition, offset: offset++, timestamp: NOW, key: null, value: bytes, headers: {} };
}
const sale = (eventTime: unknown, extra: object = {}) => record({ id: `e${offset}`, event_time: eventTime, pays: 'France', montant: 10, ...extra });

describe('streams never stop on one event', () => {
  it('sends event times outside the limits to the DLQ without moving the watermark', () => {
    const p = new StreamProcessor(compileStream('s', definition()));
    p.process([sale(new Date(T0).toISOString())], NOW);
    const before = p.watermark;
    const bad = [8.64e15, -8.64e15, '+275760-09-13T00:00:00.000Z', '9999-12-31T23:59:59Z', -62_135_596_800_001, NOW + 2 * 3_600_000];
    const result = p.process(
      bad.map((t) => sale(t)),
      NOW,
    );
    // Year 275760 written with a sign is not an ISO-8601 time we read: dead-lettered as "not a time".
    expect(result.deadLetters.map((d) => d.failure.code)).toEqual(
      bad.map((t) => (typeof t === 'string' && t.startsWith('+') ? 'missing_event_time' : 'event_time_out_of_range')),
    );
    expect(result.deadLetters[0]!.failure.message).toMatch(/event-time field "event_time" .* is after 9999-12-31, the latest time the lake can hold/);
    expect(result.deadLetters[1]!.failure.message).toMatch(/is before 0001-01-01/);
    expect(result.deadLetters[5]!.failure.message).toMatch(
      /more than eventTimeLimits\.maxAhead \(3600000 ms\) ahead of the processing time 2026-11-22T10:30:00\.000Z/,
    );
    expect(result.watermark).toBe(before);
    expect(result.closed.get('gold.par_pays')).toEqual([]);
    // A later event on time is not late: the window it belongs to was never closed by the outliers.
    const next = p.process([sale(new Date(T0 + 10_000).toISOString())], NOW);
    expect(next.late).toEqual([]);
  });

  it('takes the limits from the config: a wider maxAhead, a maxBehind, or none', () => {
    const wide = new StreamProcessor(compileStream('s', definition({ eventTimeLimits: { maxAhead: '2d', maxBehind: '1d' } })));
    const r = wide.process([sale(NOW + 86_400_000), sale(NOW - 2 * 86_400_000)], NOW);
    expect(r.deadLetters.map((d) => d.failure.message)).toEqual([expect.stringMatching(/maxBehind \(86400000 ms\) behind/)]);
    const open = new StreamProcessor(compileStream('s', definition({ eventTimeLimits: { maxAhead: false } })));
    const o = open.process([sale('9000-01-01T00:00:00Z'), sale(8.64e15)], NOW);
    expect(o.deadLetters.map((d) => d.failure.message)).toEqual([expect.stringMatching(/after 9999-12-31/)]);
    expect(() => compileStream('s', definition({ eventTimeLimits: { maxAhead: 'soon' as never } }))).toThrow(/eventTimeLimits\.maxAhead/);
  });

  it('refuses invalid UTF-8, says "out of range" for 1e400, and dead-letters whatever a map or filter does wrong', () => {
    const mapped = (map: StreamConfig['map']) => new StreamProcessor(compileStream('s', definition({ map })));
    const p = new StreamProcessor(compileStream('s', definition()));
    const latin1 = Buffer.concat([
      Buffer.from(`{"id":"x","event_time":"${new Date(T0).toISOString()}","pays":"Fr`),
      Buffer.from([0xe9, 0xe9]),
      Buffer.from('ance","montant":1}'),
    ]);
    const r = p.process(
      [
        record(latin1),
        record(`{"id":"y","event_time":"${new Date(T0).toISOString()}","pays":"France","montant":1e400}`),
        sale(new Date(T0).toISOString(), { quantite: 2 ** 60 }),
      ],
      NOW,
    );
    expect(r.deadLetters.map((d) => [d.failure.code, d.failure.message])).toEqual([
      ['unparseable', expect.stringMatching(/not valid UTF-8 at byte 60/)],
      ['invalid_field', 'field "montant": number out of range (too large for a double: it reads as infinity)'],
      ['invalid_field', expect.stringMatching(/field "quantite": integer out of range/)],
    ]);
    const throwing = mapped(() => {
      throw new Error('boom');
    }).process([sale(new Date(T0).toISOString())], NOW);
    expect(throwing.deadLetters[0]!.failure).toEqual({ code: 'map_failed', message: 'filter/map threw: boom' });
    const notObject = mapped(() => 42 as never).process([sale(new Date(T0).toISOString())], NOW);
    expect(notObject.deadLetters[0]!.failure.code).toBe('map_failed');
    const hostile = mapped(
      (e) =>
        ({
          ...e,
          pays: {
            toString: () => {
              throw new Error('nope');
            },
          },
        }) as never,
    ).process([sale(new Date(T0).toISOString())], NOW);
    expect(hostile.deadLetters.length + (hostile.open.get('gold.glissant')?.length ?? 0)).toBeGreaterThan(0);
  });

  it('always advances, whatever the bytes or JSON values it is fed (property-based)', () => {
    const time = fc.oneof(
      fc.integer({ min: T0 - 3_600_000, max: NOW + 3_600_000 }).map((t) => new Date(t).toISOString()),
      fc.double(),
      fc.integer(),
      // biome-ignore lint/correctness/noPrecisionLoss: 1e400 is Infinity on purpose, a value no date can hold
      fc.constantFrom(8.64e15, -8.64e15, 1e400, '9999-12-31', '0000-01-01', '+275760-09-13T00:00:00Z', '2026-13-45', ''),
      fc.string(),
      fc.jsonValue(),
    );
    const value = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      fc
        .record(
          {
            id: fc.oneof(fc.string(), fc.jsonValue()),
            event_time: time,
            pays: fc.oneof(fc.constantFrom('France', 'Spain'), fc.jsonValue()),
            montant: fc.oneof(fc.double(), fc.jsonValue()),
            quantite: fc.option(fc.oneof(fc.integer(), fc.double(), fc.jsonValue())),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      fc.constant(null),
    );
    const batch = fc.array(fc.record({ value, partition: fc.integer({ min: 0, max: 2 }) }), { maxLength: 40 });
    const map = (e: Record<string, unknown>) => (e.pays === 'Spain' ? null : { ...e, pays: e.pays });
    fc.assert(
      fc.property(fc.array(batch, { minLength: 1, maxLength: 4 }), fc.boolean(), (batches, withMap) => {
        const p = new StreamProcessor(compileStream('s', definition(withMap ? { map, fields: undefined } : {})));
        const next = new Map<number, number>();
        for (const b of batches) {
          const records = b.map((r) => record(r.value === null ? null : r.value, r.partition));
          const result = p.process(records, NOW);
          for (const r of records) next.set(r.partition, r.offset + 1);
          // Every partition's position is past every record it delivered: nothing is retried forever.
          for (const [partition, position] of next) if (records.some((r) => r.partition === partition)) expect(result.positions.get(partition)).toBe(position);
          expect(result.deadLetters.length).toBeLessThanOrEqual(records.length);
          // The watermark never jumps past what the limits allow, and every row is a time the lake can hold.
          expect(result.watermark).toBeLessThanOrEqual(NOW + 3_600_000);
          for (const rows of [...result.closed.values(), ...result.open.values()]) {
            for (const row of rows) {
              expect(row.start).toBeGreaterThanOrEqual(LAKE_TIME_RANGE.min - 3_600_000);
              expect(row.end).toBeLessThanOrEqual(LAKE_TIME_RANGE.max + 3_600_000);
            }
          }
        }
      }),
      { numRuns: 300, seed: 20261201 },
    );
  });

  it('end to end: poison values in the log go to the DLQ, the stream finishes, and SQL over its tables works', async () => {
    const dir = path.join(tempDir('trib-poison-'), 'ventes-live');
    copyProjectFiles(path.join(ROOT, 'examples/ventes-live'), dir);
    const config = await loadConfig(dir);
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    const topic = config.streams['ventes-live']!.topic;
    await log.createTopic(topic, 1);
    const now = Date.now();
    const at = (ms: number) => new Date(ms).toISOString();
    const good = (t: number, i: number) => JSON.stringify({ id: `g${i}`, event_time: at(t), pays: 'France', produit: 'Laptop', montant: 10, quantite: 1 });
    const values = [
      good(now - 120_000, 1),
      JSON.stringify({ id: 'far', event_time: 8.64e15, pays: 'France', produit: 'Laptop', montant: 1, quantite: 1 }),
      JSON.stringify({ id: 'past', event_time: -8.64e15, pays: 'France', produit: 'Laptop', montant: 1, quantite: 1 }),
      JSON.stringify({ id: 'end', event_time: '9999-12-31T23:59:59Z', pays: 'France', produit: 'Laptop', montant: 1, quantite: 1 }),
      `{"id":"inf","event_time":"${at(now - 60_000)}","pays":"France","produit":"Laptop","montant":1e400,"quantite":1}`,
      Buffer.concat([
        Buffer.from(`{"id":"enc","event_time":"${at(now - 60_000)}","pays":"Fr`),
        Buffer.from([0xff]),
        Buffer.from('ance","produit":"Laptop","montant":1,"quantite":1}'),
      ]),
      good(now - 60_000, 2),
      // Year 1 is within what the lake holds: accepted, its window written, and SQL over the tables still works.
      JSON.stringify({ id: 'year1', event_time: '0001-01-01T00:00:30Z', pays: 'France', produit: 'Laptop', montant: 1, quantite: 1 }),
    ];
    const producer = await log.producer();
    await producer.send(values.map((value) => ({ topic, value })));
    await producer.close();
    const report = await runStream(config, 'ventes-live', { availableNow: true });
    expect(report.records).toBe(values.length);
    expect(report.deadLetters).toBe(5);
    const lake = await Lake.open(config);
    try {
      const dlq = await lake.query(`SELECT error_code, count(*) AS n FROM bronze.ventes_live_dlq GROUP BY ALL ORDER BY 1`);
      expect(dlq.rows.map((r) => [r.error_code, Number(r.n)])).toEqual([
        ['event_time_out_of_range', 3],
        ['invalid_field', 1],
        ['unparseable', 1],
      ]);
      for (const table of (await lake.tables()).map((t) => t.name)) await lake.query(`SELECT * FROM ${table}`);
      const early = await lake.query(`SELECT min(window_start) AS w FROM gold.ventes_live_par_pays`);
      expect((early.rows[0]!.w as Date).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    } finally {
      await lake.close();
      await log.close();
    }
  });
});
