import { describe, expect, it } from 'vitest';
import { agg, windows } from '../src/config/define.js';
import type { StreamConfig, TributaryConfig } from '../src/config/types.js';
import { resolveConfig } from '../src/config/load.js';
import { tempDir } from './support/helpers.js';
import type { LogRecord } from '../src/log/log.js';
import { compileStream } from '../src/streams/definition.js';
import { StreamProcessor } from '../src/streams/processor.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const MIN = 60_000;

function definition(extra: Partial<StreamConfig> = {}): StreamConfig {
  return {
    topic: 'ventes',
    fields: { id: 'string', event_time: 'timestamp', pays: 'string', montant: 'number', produit: 'string?' },
    eventTime: 'event_time',
    watermark: '30s',
    outputs: {
      'gold.par_pays': { window: windows.tumbling('1m'), groupBy: ['pays'], aggregates: { total: agg.sum('montant'), n: agg.count() } },
    },
    ...extra,
  };
}

/** Tests that drive the processing clock by hand (now = 1000 ms) accept event times far ahead of it. */
const FAKE_CLOCK: Partial<StreamConfig> = { eventTimeLimits: { maxAhead: false } };

let offset = 0;
function record(value: unknown, partition = 0): LogRecord {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { topic: 'ventes', partition, offset: offset++, timestamp: Date.now(), key: null, value: bytes, headers: {} };
}

function sale(at: number, pays: string, montant: number): LogRecord {
  return record({ id: `e${offset}`, event_time: new Date(at).toISOString(), pays, montant });
}

describe('stream processor', () => {
  it('aggregates tumbling windows per key and emits them once the watermark passes their end', () => {
    const p = new StreamProcessor(compileStream('s', definition()));
    const first = p.process([sale(T0 + 1000, 'France', 10), sale(T0 + 2000, 'France', 5), sale(T0 + 3000, 'Spain', 7)]);
    expect(first.closed.get('gold.par_pays')).toEqual([]);
    expect(first.watermark).toBe(T0 + 3000 - 30_000);
    // An event at 10:01:31 moves the watermark to 10:01:01: the 10:00 window closes.
    const second = p.process([sale(T0 + MIN + 31_000, 'France', 1)]);
    const rows = second.closed.get('gold.par_pays')!;
    expect(rows.map((r) => [r.start, r.end, r.keys, r.values])).toEqual([
      [T0, T0 + MIN, ['France'], [15, 2]],
      [T0, T0 + MIN, ['Spain'], [7, 1]],
    ]);
  });

  it('puts an event in every hopping window that covers it', () => {
    const p = new StreamProcessor(
      compileStream(
        's',
        definition({
          outputs: { 'gold.glissant': { window: windows.hopping('5m', '1m'), aggregates: { n: agg.count() } } },
        }),
      ),
    );
    p.process([sale(T0 + 2 * MIN + 10, 'France', 1)]);
    const rows = p.process([sale(T0 + 20 * MIN, 'France', 1)]).closed.get('gold.glissant')!;
    expect(rows.map((r) => (r.start - T0) / MIN)).toEqual([-2, -1, 0, 1, 2]);
    expect(rows.every((r) => r.values[0] === 1 && r.end - r.start === 5 * MIN)).toBe(true);
  });

  it('refuses sliding windows by name: Kafka Streams’ sliding windows are not hopping windows', () => {
    const config = {
      streams: {
        s: {
          topic: 't',
          eventTime: 'at',
          watermark: '1s',
          outputs: { 'gold.x': { window: { kind: 'sliding', size: '5m', advance: '1m' }, aggregates: { n: agg.count() } } },
        },
      },
    } as unknown as TributaryConfig;
    expect(() => resolveConfig(config, tempDir('trib-sliding-'), undefined)).toThrow(/window\.kind: 'sliding' windows .*are not available.*kind 'hopping'/);
  });

  it('merges session windows per key when events come closer than the gap', () => {
    const p = new StreamProcessor(
      compileStream(
        's',
        definition({
          outputs: { 'gold.sessions': { window: windows.session('5m'), groupBy: ['pays'], aggregates: { n: agg.count(), max: agg.max('montant') } } },
        }),
      ),
    );
    const first = p.process([sale(T0, 'France', 1), sale(T0 + 8 * MIN, 'France', 3), sale(T0 + 4 * MIN, 'France', 2), sale(T0 + MIN, 'Spain', 9)]);
    // The watermark (10:07:30) already closed Spain's session, which ended at 10:06.
    const rows = [...first.closed.get('gold.sessions')!, ...p.process([sale(T0 + 60 * MIN, 'Italy', 1)]).closed.get('gold.sessions')!];
    // France: 10:00, 10:04 and 10:08 chain into one session ending 5 minutes after the last event.
    expect(rows.map((r) => [r.keys[0], (r.start - T0) / MIN, (r.end - T0) / MIN, r.values])).toEqual([
      ['Spain', 1, 6, [1, 9]],
      ['France', 0, 13, [3, 3]],
    ]);
  });

  it('sends events for closed windows to the late output, with the window and watermark, and counts the rest', () => {
    const p = new StreamProcessor(compileStream('s', definition()));
    p.process([sale(T0 + 5 * MIN, 'France', 1)]); // watermark 10:04:30
    const result = p.process([sale(T0 + 10_000, 'France', 99), sale(T0 + 4 * MIN + 40_000, 'France', 2)]);
    expect(result.late).toHaveLength(1);
    expect(result.late[0]).toMatchObject({ output: 'gold.par_pays', windowStart: T0, windowEnd: T0 + MIN, watermark: T0 + 4 * MIN + 30_000 });
    const open = p.process([sale(T0 + 6 * MIN, 'France', 0)]).closed.get('gold.par_pays')!;
    expect(open.map((r) => [(r.start - T0) / MIN, r.values])).toEqual([[4, [2, 1]]]);
  });

  it('holds the watermark at the slowest partition, until that partition goes idle', () => {
    const p = new StreamProcessor(compileStream('s', definition({ idleTimeout: '10s', ...FAKE_CLOCK })));
    const at = (t: number, partition: number) => ({ ...sale(t, 'France', 1), partition });
    p.process([at(T0 + 10 * MIN, 0), at(T0, 1)], 1000);
    expect(p.watermark).toBe(T0 - 30_000); // partition 1 is behind: its next events are not late
    const behind = p.process([at(T0 + 5000, 1)], 2000);
    expect(behind.late).toEqual([]);
    // Partition 1 falls silent; after the idle timeout the watermark follows partition 0.
    p.process([at(T0 + 10 * MIN + 1000, 0)], 20_000);
    expect(p.watermark).toBe(T0 + 10 * MIN + 1000 - 30_000);
  });

  it('restored from a checkpoint, a partition that stays silent stops holding the watermark after the idle timeout', () => {
    const def = compileStream('s', definition({ idleTimeout: '10s', ...FAKE_CLOCK }));
    const before = new StreamProcessor(def);
    const at = (t: number, partition: number) => ({ ...sale(t, 'France', 1), partition });
    before.process([at(T0, 0), at(T0, 1)], 1000);
    const restored = new StreamProcessor(def, def.outputs, JSON.parse(JSON.stringify(before.snapshot())));
    const now = Date.now();
    restored.process([at(T0 + 5 * MIN, 0)], now);
    expect(restored.watermark).toBe(T0 - 30_000); // partition 1 may still deliver
    restored.process([at(T0 + 5 * MIN + 1, 0)], now + 11_000);
    expect(restored.watermark).toBe(T0 + 5 * MIN + 1 - 30_000);
  });

  it('a partition assigned but silent holds the watermark until it delivers or goes idle', () => {
    const p = new StreamProcessor(compileStream('s', definition({ idleTimeout: '10s', ...FAKE_CLOCK })));
    p.assign(
      new Map([
        [0, 1_000_000],
        [1, 1_000_000],
      ]),
      0,
    );
    p.process([{ ...sale(T0 + 5 * MIN, 'France', 1), partition: 0 }], 1000);
    expect(p.watermark).toBe(-Infinity);
    p.process([{ ...sale(T0 + 5 * MIN, 'France', 1), partition: 0 }], 12_000);
    expect(p.watermark).toBe(T0 + 5 * MIN - 30_000);
  });

  it('an assigned partition whose waiting records were all dead letters stops holding the watermark once read', () => {
    const p = new StreamProcessor(compileStream('s', definition(FAKE_CLOCK)));
    const pills = [
      { ...record('not json'), partition: 1 },
      { ...record('{'), partition: 1 },
    ];
    p.assign(
      new Map([
        [0, 1_000_000],
        [1, pills[1]!.offset + 1],
      ]),
      0,
    );
    p.process([{ ...sale(T0 + 5 * MIN, 'France', 1), partition: 0 }, pills[0]!], 1000);
    expect(p.watermark).toBe(-Infinity); // partition 1 still has a record waiting: it may be an old event
    p.process([pills[1]!], 1000);
    expect(p.watermark).toBe(T0 + 5 * MIN - 30_000);
  });

  it('an event inside an open session is on time even when its own gap has passed the watermark', () => {
    const p = new StreamProcessor(
      compileStream(
        's',
        definition({
          outputs: { 'gold.sessions': { window: windows.session('50s'), groupBy: ['pays'], aggregates: { n: agg.count() } } },
        }),
      ),
    );
    p.process([sale(T0 + 100_000, 'France', 1), sale(T0 + 140_000, 'France', 1)]); // session [100 s, 190 s)
    p.process([sale(T0 + 210_000, 'Spain', 1)]); // watermark 180 s
    const inside = p.process([sale(T0 + 120_000, 'France', 1)]); // its own window [120 s, 170 s) has passed, the session has not
    expect(inside.late).toEqual([]);
    const closed = p.process([sale(T0 + 400_000, 'Spain', 1)]).closed.get('gold.sessions')!;
    expect(closed.filter((r) => r.keys[0] === 'France').map((r) => [(r.start - T0) / 1000, (r.end - T0) / 1000, r.values[0]])).toEqual([[100, 190, 3]]);
  });

  it('reads event times without an offset as UTC', () => {
    const p = new StreamProcessor(compileStream('s', definition()));
    p.process([record({ id: 'a', event_time: '2026-11-22T10:00:00', pays: 'France', montant: 1 })]);
    expect(p.snapshot().maxEventTime).toBe(T0);
  });

  it('keeps a window open for its allowed lateness', () => {
    const p = new StreamProcessor(
      compileStream(
        's',
        definition({
          outputs: { 'gold.par_pays': { window: windows.tumbling('1m'), allowedLateness: '2m', aggregates: { n: agg.count() } } },
        }),
      ),
    );
    p.process([sale(T0 + 2 * MIN, 'France', 1)]); // watermark 10:01:30: 10:00 window ended but may still change
    const late = p.process([sale(T0 + 10_000, 'France', 1)]);
    expect(late.late).toEqual([]);
    const closed = p.process([sale(T0 + 4 * MIN, 'France', 1)]).closed.get('gold.par_pays')!;
    expect(closed.map((r) => [(r.start - T0) / MIN, r.values[0]])).toEqual([[0, 1]]);
  });

  it('on-update outputs report every open window after each batch', () => {
    const p = new StreamProcessor(
      compileStream(
        's',
        definition({
          outputs: { 'gold.live': { window: windows.tumbling('1m'), groupBy: ['pays'], aggregates: { n: agg.count() }, emit: 'on-update' } },
        }),
      ),
    );
    const r = p.process([sale(T0, 'France', 1), sale(T0 + 1, 'Spain', 1), sale(T0 + 2, 'France', 1)]);
    expect(r.open.get('gold.live')!.map((w) => [w.keys[0], w.values[0], w.final])).toEqual([
      ['France', 2, false],
      ['Spain', 1, false],
    ]);
  });

  it('sends poison pills to the dead-letter queue with a reason and keeps going', () => {
    const p = new StreamProcessor(compileStream('s', definition({ maxEventBytes: 1024 * 1024 })));
    const result = p.process([
      record('{"id": "a", "event_time": "2026-11-22T10:00:00Z", "pays": "France", "montant": 12'),
      record({ id: 'b', event_time: '2026-11-22T10:00:00Z', pays: 'France', montant: 'douze' }),
      record({ id: 'c', pays: 'France', montant: 3 }),
      record({ id: 'd', event_time: 'hier', pays: 'France', montant: 3 }),
      record(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81])),
      record(Buffer.alloc(5 * 1024 * 1024, 0x61)),
      record('[1, 2, 3]'),
      sale(T0, 'France', 4),
    ]);
    expect(result.deadLetters.map((d) => d.failure.code)).toEqual([
      'unparseable',
      'invalid_field',
      'missing_event_time',
      'missing_event_time',
      'unparseable',
      'too_large',
      'not_an_object',
    ]);
    expect(result.deadLetters[1]!.failure.message).toContain('"montant": expected a number, got string "douze"');
    expect(result.deadLetters[2]!.failure.message).toBe('event-time field "event_time" is missing');
    expect(result.deadLetters[3]!.failure.message).toBe('event-time field "event_time" is not a time: "hier"');
    expect(result.deadLetters[5]!.failure.message).toContain('5242880 bytes');
    expect(result.positions.get(0)).toBe(offset);
    expect(p.snapshot().maxEventTime).toBe(T0);
  });

  it('without declared fields, a missing event time is its own failure', () => {
    const p = new StreamProcessor(compileStream('s', { ...definition(), fields: undefined }));
    const result = p.process([record({ pays: 'France' })]);
    expect(result.deadLetters[0]!.failure).toMatchObject({ code: 'missing_event_time' });
  });

  it('restored from a snapshot, continues exactly as if it had never stopped', () => {
    const def = compileStream(
      's',
      definition({
        outputs: {
          'gold.a': { window: windows.tumbling('1m'), groupBy: ['pays'], aggregates: { total: agg.sum('montant'), n: agg.count(), avg: agg.avg('montant') } },
          'gold.b': { window: windows.session('2m'), groupBy: ['pays'], aggregates: { n: agg.count(), min: agg.min('montant') } },
        },
      }),
    );
    const events = Array.from({ length: 400 }, (_, i) => sale(T0 + i * 1500 - (i % 7) * 1000, ['France', 'Spain', 'Italy'][i % 3]!, (i % 13) + 0.5));
    const straight = new StreamProcessor(def);
    const resumed = new StreamProcessor(def);
    const a: unknown[] = [];
    const b: unknown[] = [];
    let current = resumed;
    for (let i = 0; i < events.length; i += 50) {
      a.push(...[...straight.process(events.slice(i, i + 50)).closed.values()].flat());
      b.push(...[...current.process(events.slice(i, i + 50)).closed.values()].flat());
      current = new StreamProcessor(def, def.outputs, JSON.parse(JSON.stringify(current.snapshot())));
    }
    expect(b).toEqual(a);
    expect(a.length).toBeGreaterThan(20);
  });

  it("names hopping windows hopping (Kafka Streams' word)", () => {
    const hop = compileStream('s', definition({ outputs: { 'gold.x': { window: windows.hopping('5m', '1m'), aggregates: { n: agg.count() } } } }));
    expect(hop.outputs[0]!.window).toEqual({ kind: 'hopping', sizeMs: 300_000, advanceMs: 60_000 });
  });

  it('refuses definitions that cannot work, naming the setting', () => {
    expect(() => compileStream('s', definition({ outputs: { 'gold.x': { window: windows.hopping('1m', '5m'), aggregates: { n: agg.count() } } } }))).toThrow(
      'streams.s.outputs.gold.x.window: advance (300000 ms) is larger than size (60000 ms)',
    );
    expect(() =>
      compileStream('s', definition({ outputs: { 'gold.x': { window: windows.tumbling('1m'), groupBy: ['country'], aggregates: { n: agg.count() } } } })),
    ).toThrow('field "country" is not among the declared fields');
    expect(() => compileStream('s', definition({ landing: 'gold.par_pays' }))).toThrow('table gold.par_pays is used twice');
    expect(() => compileStream('s', definition({ watermark: '30 secondes' }))).toThrow('"30 secondes" is not a duration');
  });
});
