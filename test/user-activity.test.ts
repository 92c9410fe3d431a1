import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { runBuild } from '../src/orchestration/build.js';
import { runStream } from '../src/streams/worker.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
// @ts-expect-error: the example's generator is plain JavaScript, run by `node` as users run it
import { userActivity } from '../examples/user-activity/generate.mjs';
import { ROOT, cli, tempDir } from './support/helpers.js';
import { rows } from './support/project.js';

// examples/user-activity (seed 003): its contracts registered and guarded by the gate, two producer versions sending
// Avro with their schema ids, the stream's windows, landing and typed events compared with what was sent, the daily
// aggregation; then the same stream on Kafka.
interface Activity {
  event_id: string;
  user_id: string;
  event_type: string;
  timestamp: number;
  session_id?: string;
}
const T0 = Date.parse('2026-01-05T23:50:00Z'); // the events cross midnight: two days
const v1 = userActivity({ count: 600, version: 1, seed: 1, start: T0 }) as Activity[];
const v2 = userActivity({ count: 600, version: 2, seed: 2, start: T0 + 600_000 }) as Activity[];
const all = [...v1, ...v2];
let dir: string;
let lake: Lake;

const ndjson = (events: Activity[]) => `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;

async function produce(project: string, file: string, schema: string, env: Record<string, string> = {}) {
  const r = await cli(['produce', 'user_activity', '--from', file, '--schema', path.join(project, schema), '--key', 'user_id', '--project', project], { env });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** Windows of one minute closed by the watermark (latest event time − 10 minutes), counted from what was sent. */
function expectedWindows(events: Activity[]): { window_start: number; event_type: string; events: number }[] {
  const watermark = Math.max(...events.map((e) => e.timestamp)) - 600_000;
  const counts = new Map<string, number>();
  for (const e of events) {
    const start = Math.floor(e.timestamp / 60_000) * 60_000;
    if (start + 60_000 > watermark) continue;
    const key = `${start}|${e.event_type}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([k, n]) => ({ window_start: Number(k.split('|')[0]), event_type: k.split('|')[1]!, events: n }))
    .sort((a, b) => a.window_start - b.window_start || a.event_type.localeCompare(b.event_type));
}

async function windows(l: Lake) {
  return (await rows(l, 'SELECT epoch_ms(window_start) AS window_start, event_type, events FROM gold.activity_per_minute ORDER BY 1, 2')) as {
    window_start: number;
    event_type: string;
    events: number;
  }[];
}

beforeAll(async () => {
  dir = path.join(tempDir('trib-activity-'), 'user-activity');
  copyProjectFiles(path.join(ROOT, 'examples/user-activity'), dir);
  writeFileSync(path.join(dir, 'v1.ndjson'), ndjson(v1));
  writeFileSync(path.join(dir, 'v2.ndjson'), ndjson(v2));
});
afterAll(async () => lake?.close());

describe('examples/user-activity (seed 003)', () => {
  it('registers its contracts, lets a compatible producer version through and stops a breaking one at the gate', { timeout: 120_000 }, async () => {
    const registered = await cli(['contracts', 'register', '--project', dir]);
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toContain('user_activity-value: id 1, version 1');
    expect(registered.stdout).toContain('wikimedia_changes-value: id 2, version 1');
    const next = await cli(['contracts', 'check', '--dir', 'producers/v2', '--project', dir]);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toContain('user_activity-value: compatible');
    // A producer that renames user_id: every reader of the topic would break.
    const broken = path.join(dir, 'producers/broken');
    mkdirSync(broken, { recursive: true });
    const schema = JSON.parse(readFileSync(path.join(dir, 'producers/v2/user_activity-value.avsc'), 'utf8')) as { fields: { name: string }[] };
    schema.fields = schema.fields.map((f) => (f.name === 'user_id' ? { ...f, name: 'customer_id' } : f));
    writeFileSync(path.join(broken, 'user_activity-value.avsc'), JSON.stringify(schema));
    const gate = await cli(['contracts', 'check', '--dir', 'producers/broken', '--project', dir]);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toContain('/fields/customer_id: field customer_id (string) is not written and has no default');
  });

  it('counts every event once per minute and type, lands the records and the typed events, and aggregates the days', { timeout: 180_000 }, async () => {
    await produce(dir, path.join(dir, 'v1.ndjson'), 'contracts/user_activity-value.avsc');
    // The second producer registers its version (compatible) and sends its ids; the stream reads both.
    await produce(dir, path.join(dir, 'v2.ndjson'), 'producers/v2/user_activity-value.avsc');
    lake = await Lake.open(await loadConfig(dir, { required: true }));
    const report = await runStream(lake.config, 'user-activity', { availableNow: true, lake });
    expect(report).toMatchObject({ records: 1200, deadLetters: 0 });
    expect(await windows(lake)).toEqual(expectedWindows(all));
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.user_activity_raw')).toEqual([{ n: 1200 }]);
    // The typed events: one row per event; the raw records carry the two producers' schema ids (1, and 3 for the
    // second version: id 2 is wikimedia_changes-value's).
    expect(await rows(lake, 'SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM bronze.user_activity')).toEqual([{ n: 1200, ids: 1200 }]);
    // Its columns are the contract's: the metadata map a MAP, the timestamp an instant, page_id nullable text.
    const types = Object.fromEntries((await rows(lake, 'DESCRIBE SELECT * FROM bronze.user_activity')).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({ metadata: 'MAP(VARCHAR, VARCHAR)', timestamp: 'TIMESTAMP WITH TIME ZONE', event_type: 'VARCHAR', page_id: 'VARCHAR' });
    const devices = await rows(lake, "SELECT metadata['device'] AS device, count(*) AS n FROM bronze.user_activity GROUP BY 1 ORDER BY 1");
    expect(devices.map((d) => d.device)).toEqual(['desktop', 'mobile']);
    expect(devices.reduce((n, d) => n + Number(d.n), 0)).toBe(1200);
    const schemaIds = await rows(
      lake,
      // The wire format's header: the magic byte 0, then the id on 4 bytes.
      'SELECT left(hex(value), 10) AS header, count(*) AS n FROM bronze.user_activity_raw GROUP BY 1 ORDER BY 1',
    );
    expect(schemaIds).toEqual([
      { header: '0000000001', n: 600 },
      { header: '0000000003', n: 600 },
    ]);

    expect((await runBuild(lake, { select: lake.config.jobs.daily!.select })).status).toBe('success');
    const truth = new Map<string, { events: number; users: Set<string> }>();
    for (const e of all) {
      const key = `${new Date(e.timestamp).toISOString().slice(0, 10)}|${e.event_type}`;
      const t = truth.get(key) ?? { events: 0, users: new Set<string>() };
      t.events++;
      t.users.add(e.user_id);
      truth.set(key, t);
    }
    const daily = await rows(lake, "SELECT strftime(day, '%Y-%m-%d') AS day, event_type, events, users FROM gold.daily_event_stats ORDER BY 1, 2");
    expect(daily).toEqual(
      [...truth]
        .map(([k, t]) => ({ day: k.split('|')[0], event_type: k.split('|')[1], events: t.events, users: t.users.size }))
        .sort((a, b) => a.day!.localeCompare(b.day!) || a.event_type!.localeCompare(b.event_type!)),
    );
    expect(daily.map((d) => d.day)).toContain('2026-01-06');
  });

  it('runs the same stream on Kafka, with the same windows', { timeout: 180_000 }, async () => {
    const kafka = path.join(tempDir('trib-activity-kafka-'), 'user-activity');
    copyProjectFiles(path.join(ROOT, 'examples/user-activity'), kafka);
    const env = { TRIBUTARY_LOG: `kafka://${inject('kafkaBootstrap')}` };
    writeFileSync(path.join(kafka, 'v1.ndjson'), ndjson(v1));
    writeFileSync(path.join(kafka, 'v2.ndjson'), ndjson(v2));
    expect((await cli(['contracts', 'register', '--project', kafka], { env })).code).toBe(0);
    await produce(kafka, path.join(kafka, 'v1.ndjson'), 'contracts/user_activity-value.avsc', env);
    await produce(kafka, path.join(kafka, 'v2.ndjson'), 'producers/v2/user_activity-value.avsc', env);
    Object.assign(process.env, env);
    let other: Lake;
    try {
      other = await Lake.open(await loadConfig(kafka, { required: true }));
    } finally {
      delete process.env.TRIBUTARY_LOG;
    }
    try {
      expect(other.config.log.kind).toBe('kafka');
      expect(await runStream(other.config, 'user-activity', { availableNow: true, lake: other })).toMatchObject({ records: 1200, deadLetters: 0 });
      expect(await windows(other)).toEqual(expectedWindows(all));
    } finally {
      await other.close();
    }
  });
});
