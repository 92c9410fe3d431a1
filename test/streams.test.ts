import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { ResolvedConfig, StreamConfig } from '../src/config/types.js';
import { Lake } from '../src/lake/lake.js';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { KafkaLog } from '../src/log/kafka/kafka-log.js';
import type { LogRecord } from '../src/log/log.js';
import { produceFile, produceGenerated } from '../src/produce/produce.js';
import { listDeadLetters, replayDeadLetters } from '../src/streams/dead-letters.js';
import { replayStream } from '../src/streams/replay.js';
import { streamStatus } from '../src/streams/status.js';
import { runStream } from '../src/streams/worker.js';
import { cli, ROOT, tempDir } from './support/helpers.js';
import { tumblingTruth, windowTable, type Sale } from './support/sales-truth.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

const EXAMPLE = path.join(ROOT, 'examples/ventes-live');
const STREAM = 'ventes-live';
const TOPIC = 'ventes-temps-reel';

async function exampleProject(overrides: Partial<StreamConfig> = {}): Promise<{ dir: string; config: ResolvedConfig }> {
  const dir = path.join(tempDir('trib-stream-'), 'ventes-live');
  copyProjectFiles(EXAMPLE, dir);
  const config = await loadConfig(dir);
  config.streams[STREAM] = { ...config.streams[STREAM]!, ...overrides };
  return { dir, config };
}

/** Valid sales of an NDJSON file, by the example's rules (what must reach the windows or the late table). */
function validSales(lines: readonly string[]): Sale[] {
  const out: Sale[] = [];
  for (const line of lines) {
    try {
      const e = JSON.parse(line) as Sale;
      if (typeof e.id === 'string' && typeof e.pays === 'string' && typeof e.montant === 'number' && !Number.isNaN(Date.parse(e.event_time))) out.push(e);
    } catch {
      // a poison pill
    }
  }
  return out;
}

async function lateWindows(lake: Lake, table: string, output: string): Promise<Map<string, { n: number; cents: number }>> {
  await lake.mount([table]);
  const rows = await lake.engine.all(
    `SELECT window_start, json_extract_string(event, '$.pays') AS pays, count(*) AS n, sum(CAST(json_extract(event, '$.montant') AS DOUBLE)) AS total
       FROM ${table} WHERE output = '${output}' GROUP BY ALL`,
  );
  return new Map(
    rows.map((r) => [`${(r.window_start as Date).toISOString()}|${String(r.pays)}`, { n: Number(r.n), cents: Math.round(Number(r.total) * 100) }]),
  );
}

describe('examples/ventes-live on the embedded log', () => {
  it('counts every valid event exactly once: in its windows or in the late table; poison pills go to the DLQ', async () => {
    const { config } = await exampleProject({ trigger: { maxRecords: 400, intervalMs: 0 } });
    const file = path.join(EXAMPLE, 'events.ndjson');
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    await log.createTopic(TOPIC, 3);
    expect((await produceFile(log, TOPIC, file)).sent).toBe(lines.length);

    const report = await runStream(config, STREAM, { availableNow: true });
    expect(report.records).toBe(lines.length);
    expect(report.batches).toBeGreaterThan(5);
    const sales = validSales(lines);
    expect(report.deadLetters).toBe(lines.length - sales.length);
    expect(report.late).toBeGreaterThan(0); // the file holds events 5 minutes late

    const lake = await Lake.open(config);
    try {
      const raw = await lake.query(`SELECT count(*) AS n, count(DISTINCT ("partition", "offset")) AS d FROM bronze.ventes_live_raw`);
      expect(raw.rows[0]).toEqual({ n: BigInt(lines.length), d: BigInt(lines.length) });
      const dlq = await listDeadLetters(config, STREAM);
      expect(dlq).toHaveLength(lines.length - sales.length);
      expect(new Set(dlq.map((d) => d.errorCode))).toEqual(new Set(['unparseable', 'invalid_field', 'missing_event_time']));
      // The DLQ topic carries the same records, each on its source partition, with the error in headers.
      const dlqReader = await log.reader(
        `${TOPIC}.dlq`,
        new Map([
          [0, 0],
          [1, 0],
          [2, 0],
        ]),
      );
      const dlqRecords: LogRecord[] = [];
      for (let i = 0; i < 10 && dlqRecords.length < dlq.length; i++) dlqRecords.push(...(await dlqReader.poll({ maxWaitMs: 200 })));
      await dlqReader.close();
      expect(dlqRecords).toHaveLength(dlq.length);
      expect(dlqRecords.map((r) => `${r.partition}/${r.headers['tributary.source']!.split('/').slice(-2).join('/')}`).sort()).toEqual(
        dlq.map((d) => `${d.partition}/${d.partition}/${d.offset}`).sort(),
      );
      expect(dlqRecords[0]!.headers['tributary.error.code']).toMatch(/unparseable|invalid_field|missing_event_time/);

      const watermark = report.watermark!;
      const late = await lateWindows(lake, 'bronze.ventes_live_late', 'gold.ventes_live_par_pays');
      const out = await windowTable(lake, 'gold.ventes_live_par_pays');
      const truth = tumblingTruth(sales);
      let closed = 0;
      for (const [key, t] of truth) {
        const windowEnd = Date.parse(key.split('|')[0]!) + 60_000;
        if (windowEnd > watermark) continue; // still open: in the state, not yet emitted
        closed++;
        const o = out.get(key) ?? { n: 0, cents: 0 };
        const l = late.get(key) ?? { n: 0, cents: 0 };
        expect({ key, n: o.n + l.n, cents: o.cents + l.cents }).toEqual({ key, n: t.n, cents: t.cents });
      }
      expect(closed).toBeGreaterThan(50);
      // On-update sliding windows: open and final rows together account for every event.
      const sliding = await windowTable(lake, 'gold.ventes_5min_glissantes');
      const slidingLate = await lateWindows(lake, 'bronze.ventes_live_late', 'gold.ventes_5min_glissantes');
      for (const [key, t] of tumblingTruth(sales, 300_000, 60_000)) {
        const o = sliding.get(key) ?? { n: 0, cents: 0 };
        const l = slidingLate.get(key) ?? { n: 0, cents: 0 };
        expect({ key, n: o.n + l.n, cents: o.cents + l.cents }).toEqual({ key, n: t.n, cents: t.cents });
      }
      const flags = await lake.query(`SELECT is_final, count(*) AS n FROM gold.ventes_5min_glissantes GROUP BY ALL ORDER BY is_final`);
      expect(flags.rows.map((r) => r.is_final)).toEqual([false, true]);
    } finally {
      await lake.close();
    }

    // Nothing new: a second run reads nothing and commits nothing.
    const again = await runStream(config, STREAM, { availableNow: true });
    expect(again.records).toBe(0);
    const [status] = await streamStatus(config);
    expect(status!.lag).toBe(0);
    expect(status!.partitions.map((p) => p.offset).reduce((a, b) => a + b)).toBe(lines.length);
    expect(status!.watermark!.getTime()).toBe(report.watermark);
    await log.close();
  });

  it('replays history with a changed definition into a new snapshot, keeping time travel to the old one', async () => {
    const { config } = await exampleProject();
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    await log.createTopic(TOPIC, 3);
    const start = Date.parse('2026-11-22T09:00:00Z');
    await produceGenerated(log, TOPIC, { count: 3000, rate: 5, pace: false, start, seed: 9, disorderMs: 5000 });
    await runStream(config, STREAM, { availableNow: true });
    const lake = await Lake.open(config);
    try {
      const before = await windowTable(lake, 'gold.ventes_live_par_pays');
      const snapshotBefore = (await lake.catalog.getTable('gold.ventes_live_par_pays'))!.currentSnapshot;
      expect([...before.keys()].some((k) => k.endsWith('|France'))).toBe(true);

      // A new business rule: France is counted elsewhere. Replay everything with it.
      config.streams[STREAM] = { ...config.streams[STREAM]!, filter: (e) => e.pays !== 'France' };
      const report = await replayStream(config, STREAM, { from: 'earliest' });
      expect(report.records).toBe(3000);
      const after = await windowTable(lake, 'gold.ventes_live_par_pays');
      expect([...after.keys()].some((k) => k.endsWith('|France'))).toBe(false);
      for (const [key, value] of after) expect(value).toEqual(before.get(key));
      expect(after.size).toBe([...before.keys()].filter((k) => !k.endsWith('|France')).length);
      const history = await lake.history('gold.ventes_live_par_pays');
      expect(history[0]!.operation).toBe('replay');
      const old = await lake.query(`SELECT count(*) AS n FROM gold.ventes_live_par_pays WHERE pays = 'France'`, { asOf: { snapshotId: snapshotBefore } });
      expect(Number(old.rows[0]!.n)).toBeGreaterThan(0);

      const withSessions = {
        ...config,
        streams: {
          [STREAM]: {
            ...config.streams[STREAM]!,
            outputs: {
              ...config.streams[STREAM]!.outputs,
              'gold.sessions': { window: { kind: 'session' as const, gap: '5m' }, aggregates: { n: { fn: 'count' as const } } },
            },
          },
        },
      };
      await expect(replayStream(withSessions, STREAM, { from: new Date(start) })).rejects.toThrow(
        "gold.sessions has session windows, which can only be replayed from 'earliest'",
      );

      // From a time: only windows from then on are recomputed; France rows from before stay as they were.
      config.streams[STREAM] = { ...config.streams[STREAM]!, filter: undefined };
      const from = new Date(start + 5 * 60_000);
      // The log was written just now, so seeking by log time starts at the beginning; windows are chosen by event time.
      const partial = await replayStream(config, STREAM, { from });
      expect(partial.tables[0]!.replaced).toBeGreaterThan(0);
      const mixed = await windowTable(lake, 'gold.ventes_live_par_pays');
      for (const [key, value] of before) {
        const windowStart = Date.parse(key.split('|')[0]!);
        if (windowStart >= from.getTime()) expect(mixed.get(key)).toEqual(value);
        else if (key.endsWith('|France')) expect(mixed.has(key)).toBe(false);
      }
    } finally {
      await lake.close();
      await log.close();
    }
  });

  it('re-injects corrected dead letters once, and they are then processed', async () => {
    const { dir, config } = await exampleProject();
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    await log.createTopic(TOPIC, 1);
    const producer = await log.producer();
    const now = Date.now();
    const good = (i: number) => JSON.stringify({ id: `g${i}`, event_time: new Date(now + i).toISOString(), pays: 'France', montant: 10 });
    await producer.send([
      { topic: TOPIC, value: good(1) },
      { topic: TOPIC, value: JSON.stringify({ id: 'bad-1', event_time: new Date(now).toISOString(), pays: 'Spain', montant: 'douze' }) },
      { topic: TOPIC, value: JSON.stringify({ id: 'bad-2', pays: 'Italy', montant: 3 }) },
      { topic: TOPIC, value: Buffer.from([0xc3, 0x28, 0xa0, 0xa1]) },
      { topic: TOPIC, value: good(2) },
    ]);
    await runStream(config, STREAM, { availableNow: true });
    const entries = await listDeadLetters(config, STREAM);
    expect(entries.map((e) => [e.offset, e.errorCode])).toEqual([
      [1, 'invalid_field'],
      [2, 'missing_event_time'],
      [3, 'unparseable'],
    ]);
    expect(entries[2]!.payloadText).toBeNull(); // binary: kept as bytes, not shown as text

    const fixes = path.join(dir, 'fixed.ndjson');
    writeFileSync(
      fixes,
      [
        JSON.stringify({ partition: 0, offset: 1, payload: { id: 'bad-1', event_time: new Date(now).toISOString(), pays: 'Spain', montant: 12 } }),
        JSON.stringify({
          partition: 0,
          offset: 2,
          payload: JSON.stringify({ id: 'bad-2', event_time: new Date(now).toISOString(), pays: 'Italy', montant: 3 }),
        }),
      ].join('\n'),
    );
    const replayed = await replayDeadLetters(config, STREAM, { file: fixes });
    expect(replayed).toMatchObject({ replayed: 2, edited: 2 });
    const second = await runStream(config, STREAM, { availableNow: true });
    expect(second).toMatchObject({ records: 2, deadLetters: 0 });
    expect((await listDeadLetters(config, STREAM, { pending: true })).map((e) => e.offset)).toEqual([3]);
    // As they were (e.g. after relaxing the definition): only the one not replayed yet goes, once.
    expect(await replayDeadLetters(config, STREAM)).toMatchObject({ replayed: 1, skipped: 2 });
    expect(await replayDeadLetters(config, STREAM)).toMatchObject({ replayed: 0, skipped: 3 });
    await expect(replayDeadLetters(config, STREAM, { only: [{ partition: 0, offset: 99 }] })).rejects.toThrow(
      'no dead letter of ventes-live at partition/offset 0/99',
    );
    await producer.close();
    await log.close();
  });
});

describe('the same stream on Kafka', () => {
  it('sends every kind of poison pill to the dead-letter table and topic, and publishes window rows to an output topic', async () => {
    const { config } = await exampleProject();
    config.log = { kind: 'kafka', brokers: [inject('kafkaBootstrap')] };
    const topic = `ventes-${process.pid}-${Date.now() % 100000}`;
    const base = config.streams[STREAM]!;
    const outputs = {
      'gold.ventes_live_par_pays': { ...base.outputs!['gold.ventes_live_par_pays']!, topic: `${topic}.par-pays`, topicPartitions: 3 },
      'gold.ventes_5min_glissantes': { ...base.outputs!['gold.ventes_5min_glissantes']!, topic: `${topic}.glissantes` },
    };
    config.streams[STREAM] = { ...base, topic, outputs, dlq: { table: 'bronze.ventes_live_dlq' } };
    const log = await KafkaLog.connect(config.log.brokers);
    try {
      await log.createTopic(topic, 2);
      const producer = await log.producer();
      const t = Date.parse('2026-11-22T10:00:00Z');
      const sale = (i: number) =>
        JSON.stringify({ id: `s${i}`, event_time: new Date(t + i * 1000).toISOString(), pays: i % 2 ? 'France' : 'Spain', montant: 10 });
      await producer.send([
        ...Array.from({ length: 100 }, (_, i) => ({ topic, partition: 0, value: sale(i) })),
        {
          topic,
          partition: 1,
          value: '{"id": "broken", "event_time": ',
          key: 'k-broken',
          headers: { 'trace-id': 'abc123', 'content-type': 'application/json' },
        },
        { topic, partition: 1, value: JSON.stringify({ id: 'types', event_time: new Date(t).toISOString(), pays: 'France', montant: 'dix' }) },
        { topic, partition: 1, value: JSON.stringify({ id: 'no-time', pays: 'France', montant: 1 }) },
        { topic, partition: 1, value: Buffer.alloc(5 * 1024 * 1024, 0x7b) },
        { topic, partition: 1, value: Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x13, 0x37]) },
        ...Array.from({ length: 100 }, (_, i) => ({ topic, partition: 1, value: sale(100 + i) })),
      ]);
      await producer.close();
      const report = await runStream(config, STREAM, { availableNow: true });
      expect(report).toMatchObject({ records: 205, deadLetters: 5 });
      const dlq = await listDeadLetters(config, STREAM);
      expect(dlq.map((d) => [d.partition, d.offset, d.errorCode, d.bytes])).toEqual([
        [1, 0, 'unparseable', 31],
        [1, 1, 'invalid_field', expect.any(Number)],
        [1, 2, 'missing_event_time', expect.any(Number)],
        [1, 3, 'too_large', 5 * 1024 * 1024],
        [1, 4, 'unparseable', 6],
      ]);
      // The dead-letter topic mirrors the source's partitions: every pill on its own partition, with its own headers
      // and key, and the error in Tributary's headers; the 5 MB one cut to maxEventBytes.
      expect(await log.partitions(`${topic}.dlq`)).toBe(2);
      const dlqReader = await log.reader(
        `${topic}.dlq`,
        new Map([
          [0, 0],
          [1, 0],
        ]),
      );
      const letters: LogRecord[] = [];
      for (let i = 0; i < 20 && letters.length < 5; i++) letters.push(...(await dlqReader.poll({ maxWaitMs: 200 })));
      await dlqReader.close();
      expect(letters.map((l) => l.headers['tributary.error.code'])).toEqual(['unparseable', 'invalid_field', 'missing_event_time', 'too_large', 'unparseable']);
      expect(letters[3]!.headers['tributary.truncated-from']).toBe(String(5 * 1024 * 1024));
      expect(letters[3]!.value!.length).toBe(1024 * 1024);
      expect(letters[0]!.headers['tributary.source']).toBe(`${topic}/1/0`);
      expect(letters.map((l) => l.partition)).toEqual([1, 1, 1, 1, 1]);
      expect(letters[0]!.headers).toMatchObject({ 'trace-id': 'abc123', 'content-type': 'application/json', 'tributary.error.code': 'unparseable' });
      expect(String(letters[0]!.key)).toBe('k-broken');
      // dlq replay sends the record back to its partition, with its key and its own headers beside Tributary's.
      const before = (await log.offsets(topic)).find((o) => o.partition === 1)!.end;
      expect(await replayDeadLetters(config, STREAM, { only: [{ partition: 1, offset: 0 }], log })).toMatchObject({ replayed: 1 });
      const back = await log.reader(topic, new Map([[1, before]]));
      const replayed: LogRecord[] = [];
      for (let i = 0; i < 20 && replayed.length < 1; i++) replayed.push(...(await back.poll({ maxWaitMs: 200 })));
      await back.close();
      expect(replayed[0]).toMatchObject({
        partition: 1,
        headers: { 'trace-id': 'abc123', 'content-type': 'application/json', 'tributary.replayed-from': `${topic}/1/0` },
      });
      expect(String(replayed[0]!.key)).toBe('k-broken');
      // Windows closed by the watermark (3 minutes of events, 30 s delay) were published to the output topic.
      const lake = await Lake.open(config);
      const closed = Number((await lake.query('SELECT count(*) AS n FROM gold.ventes_live_par_pays')).rows[0]!.n);
      await lake.close();
      expect(closed).toBeGreaterThan(0);
      // Output topics: the configured partitions, rows keyed by window and group (one partition per key).
      expect(await log.partitions(`${topic}.par-pays`)).toBe(3);
      const reader = await log.reader(
        `${topic}.par-pays`,
        new Map([
          [0, 0],
          [1, 0],
          [2, 0],
        ]),
      );
      const published: LogRecord[] = [];
      for (let i = 0; i < 20 && published.length < closed; i++) published.push(...(await reader.poll({ maxWaitMs: 200 })));
      await reader.close();
      expect(published).toHaveLength(closed);
      const first = published.find((r) => JSON.parse(r.value!.toString()).window_start === '2026-11-22T10:00:00.000Z')!;
      const row = JSON.parse(first.value!.toString());
      expect(row).toMatchObject({
        window_start: '2026-11-22T10:00:00.000Z',
        window_end: '2026-11-22T10:01:00.000Z',
        pays: expect.any(String),
        nb_transactions: expect.any(Number),
      });
      expect(JSON.parse(String(first.key))).toEqual([row.window_start, row.window_end, row.pays]);
      expect(new Set(published.map((r) => `${String(r.key)}@${r.partition}`)).size).toBe(new Set(published.map((r) => String(r.key))).size);
      // An on-update output publishes updates (is_final false) and then each window's final row (is_final true).
      const sliding = await log.reader(`${topic}.glissantes`, new Map([[0, 0]]));
      const updates: LogRecord[] = [];
      for (let i = 0; i < 20; i++) {
        const got = await sliding.poll({ maxWaitMs: 200 });
        if (got.length === 0 && updates.length) break;
        updates.push(...got);
      }
      await sliding.close();
      const values = updates.map((r) => JSON.parse(r.value!.toString()) as { is_final: boolean; window_start: string; pays: string });
      expect(values.some((v) => v.is_final === false)).toBe(true);
      expect(values.some((v) => v.is_final === true)).toBe(true);
      const finals = values.filter((v) => v.is_final);
      for (const f of finals) {
        const lastOfKey = values.filter((v) => v.window_start === f.window_start && v.pays === f.pays).at(-1)!;
        expect(lastOfKey.is_final).toBe(true); // nothing is published for a window after its final row
      }
    } finally {
      await log.close();
    }
  });
});

describe('two workers of one stream', () => {
  it('cannot both commit: the second is fenced off, and every event still counts once', async () => {
    const { config } = await exampleProject({ trigger: { maxRecords: 500, intervalMs: 0 } });
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    await log.createTopic(TOPIC, 3);
    await produceGenerated(log, TOPIC, { count: 6000, rate: 5, pace: false, start: Date.parse('2026-11-22T09:00:00Z'), seed: 5, disorderMs: 5000 });
    const results = await Promise.allSettled([runStream(config, STREAM, { availableNow: true }), runStream(config, STREAM, { availableNow: true })]);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const f of failed) expect(String((f as PromiseRejectedResult).reason)).toMatch(/COMMIT_CONFLICT|another worker/);
    await runStream(config, STREAM, { availableNow: true }); // a survivor finishes what the loser left
    const lake = await Lake.open(config);
    try {
      const raw = await lake.query(`SELECT count(*) AS n, count(DISTINCT ("partition", "offset")) AS d FROM bronze.ventes_live_raw`);
      expect(raw.rows[0]).toEqual({ n: 6000n, d: 6000n });
    } finally {
      await lake.close();
      await log.close();
    }
  });
});

describe('the stream CLI', () => {
  // One project through the commands in order: produce, run, then what reads its results.
  let project: string[];
  let dir: string;
  let produced: { stdout: string; stderr: string };
  let sent: { sent: number; poison: number };
  let run: { code: number | null; stdout: string; stderr: string };
  beforeAll(async () => {
    ({ dir } = await exampleProject());
    project = ['--project', dir];
    const args = ['--count', '600', '--rate', '10', '--no-pace', '--seed', '4', '--poison-share', '0.05', '--partitions', '3'];
    produced = await cli(['produce', TOPIC, '--from', 'generator', ...args, '--json', ...project]);
    sent = JSON.parse(produced.stdout) as { sent: number; poison: number };
    run = await cli(['stream', 'run', STREAM, '--available-now', '--json', ...project]);
  }, 120_000);

  it('produce --from generator sends the events it was asked for, poison pills included', () => {
    expect(produced.stderr).toBe('');
    expect(sent.sent).toBe(600);
    expect(sent.poison).toBeGreaterThan(0);
  });

  it('stream run --available-now processes them all, logging JSON lines on stderr when not a terminal', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ records: 600, deadLetters: sent.poison });
    const logged = run.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; stream: string; records: number });
    expect(logged.at(-1)).toMatchObject({ msg: 'stream stopped', stream: STREAM, records: expect.any(Number), lag: 0 });
  });

  it('stream status shows each partition, with no lag', async () => {
    const status = JSON.parse((await cli(['stream', 'status', '--json', ...project])).stdout) as { lag: number; partitions: unknown[] }[];
    expect(status[0]).toMatchObject({ lag: 0 });
    expect(status[0]!.partitions).toHaveLength(3);
  });

  it('dlq ls lists every poison pill', async () => {
    const dlq = JSON.parse((await cli(['dlq', 'ls', STREAM, '--json', ...project])).stdout) as unknown[];
    expect(dlq).toHaveLength(sent.poison);
  });

  it('stream replay --from earliest rebuilds the outputs', async () => {
    const replay = await cli(['stream', 'replay', STREAM, '--from', 'earliest', ...project]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('gold.ventes_live_par_pays');
  });

  it('names an unknown stream (exit code 4) and a --from that is not a time', async () => {
    const bad = await cli(['stream', 'run', 'nope', ...project]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('no stream named "nope" (streams: ventes-live)');
    const badFrom = await cli(['stream', 'replay', STREAM, '--from', 'yesterday', ...project]);
    expect(badFrom.stderr).toContain(`--from: "yesterday" is neither 'earliest' nor an ISO-8601 time`);
  });

  it('Ctrl-C on a producer: what it generated is acknowledged before it exits, and it says how much', async () => {
    const before = JSON.parse((await cli(['stream', 'status', '--json', ...project])).stdout) as { partitions: { end: number }[] }[];
    const endBefore = before[0]!.partitions.reduce((n, p) => n + p.end, 0);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/fixtures/cli.ts'), 'produce', TOPIC, '--from', 'generator', '--rate', '400', '--json', ...project],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // Interrupt once it is producing (the topic grows), however long the process took to start.
    const config = await loadConfig(dir);
    const watch = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    const total = async () => (await watch.offsets(TOPIC)).reduce((n, o) => n + o.end, 0);
    for (let i = 0; i < 300 && (await total()) <= endBefore; i++) await new Promise((r) => setTimeout(r, 100));
    await watch.close();
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    const interrupted = JSON.parse(out) as { sent: number };
    expect(interrupted.sent).toBeGreaterThan(0);
    const after = JSON.parse((await cli(['stream', 'status', '--json', ...project])).stdout) as { partitions: { end: number }[] }[];
    expect(after[0]!.partitions.reduce((n, p) => n + p.end, 0)).toBe(endBefore + interrupted.sent);
  });
});
