// `npm run bench:stream`: the ventes-live stream on the embedded log and on a real Kafka broker.
//  1. Throughput: a backlog of N sales events (3 partitions) read raw by the log's reader (the floor: the client's
//     consume rate with no processing), then processed by `stream run --available-now` (parse → windows → raw
//     landing, DLQ, outputs as Parquet → one exactly-once catalog commit per batch).
//  2. Latency: a producer process sends 10,000 events/s for 30 s while the stream runs; each event's latency is
//     the time from its log timestamp (set when produced) to the commit of the snapshot holding it (read back from
//     the catalog: when it became queryable).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import type { ResolvedConfig } from '../src/config/types.js';
import { Lake } from '../src/lake/lake.js';
import { quoteLiteral } from '../src/engine/sql.js';
import type { Log } from '../src/log/log.js';
import { openLog } from '../src/log/open.js';
import { produceGenerated } from '../src/produce/produce.js';
import { compileStream } from '../src/streams/definition.js';
import { StreamProcessor } from '../src/streams/processor.js';
import { runStream } from '../src/streams/worker.js';
// @ts-expect-error: a plain ESM script without types
import { startKafkaBroker } from '../scripts/kafka-broker.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const STREAM = 'ventes-live';
const work = mkdtempSync(path.join(tmpdir(), 'trib-bench-stream-'));
const broker = (await startKafkaBroker({ log: (m: string) => process.stderr.write(`kafka: ${m}\n`) })) as { bootstrap: string; stop: () => Promise<void> };

async function project(name: string, logUrl: string): Promise<ResolvedConfig> {
  const dir = path.join(work, name);
  cpSync(path.join(root, 'examples/ventes-live'), dir, { recursive: true });
  process.env.TRIBUTARY_LOG = logUrl;
  const config = await loadConfig(dir);
  delete process.env.TRIBUTARY_LOG;
  config.streams[STREAM] = { ...config.streams[STREAM]!, topic: `ventes-${name}` };
  return config;
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

async function rawConsume(log: Log, topic: string, total: number, processor?: StreamProcessor): Promise<number> {
  const offsets = await log.offsets(topic);
  const reader = await log.reader(topic, new Map(offsets.map((o) => [o.partition, o.start])));
  const started = performance.now();
  let read = 0;
  while (read < total) {
    const records = await reader.poll({ maxRecords: 50_000, maxWaitMs: 500 });
    processor?.process(records);
    read += records.length;
  }
  const seconds = (performance.now() - started) / 1000;
  await reader.close();
  return read / seconds;
}

async function throughput(name: string, logUrl: string): Promise<Record<string, unknown>> {
  const config = await project(`${name}-throughput`, logUrl);
  const stream = config.streams[STREAM]!;
  const log = await openLog(config.log);
  await log.createTopic(stream.topic, 3);
  process.stderr.write(`${name}: producing ${EVENTS} events…\n`);
  let t = performance.now();
  await produceGenerated(log, stream.topic, {
    count: EVENTS,
    rate: 1000,
    pace: false,
    start: Date.parse('2026-11-22T00:00:00Z'),
    seed: 1,
    poisonShare: 0.001,
    lateShare: 0.001,
  });
  const produceRate = EVENTS / ((performance.now() - t) / 1000);
  process.stderr.write(`${name}: raw consume…\n`);
  const raw = Math.max(await rawConsume(log, stream.topic, EVENTS), await rawConsume(log, stream.topic, EVENTS));
  // What the stream is made of: the same read with the processor's work (decode, validate, windows), no lake.
  const compiled = compileStream(STREAM, stream);
  const decodeOnly = await rawConsume(log, stream.topic, EVENTS, new StreamProcessor(compiled, []));
  const processed = await rawConsume(log, stream.topic, EVENTS, new StreamProcessor(compiled));
  process.stderr.write(`${name}: stream run --available-now…\n`);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  t = performance.now();
  const report = await runStream(config, STREAM, { availableNow: true, log });
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  if (report.records !== EVENTS) throw new Error(`${name}: processed ${report.records} of ${EVENTS}`);
  // The same without the raw landing (`landing: false`), on a fresh lake: how much of the cost is landing every record.
  const bare = await project(`${name}-no-landing`, logUrl);
  bare.streams[STREAM] = { ...stream, landing: false };
  t = performance.now();
  await runStream(bare, STREAM, { availableNow: true, log });
  const bareSeconds = (performance.now() - t) / 1000;
  await log.close();
  return {
    log: name,
    events: EVENTS,
    'produce ev/s': Math.round(produceRate),
    'raw consume ev/s (floor)': Math.round(raw),
    '+ decode ev/s': Math.round(decodeOnly),
    '+ windows ev/s': Math.round(processed),
    'stream ev/s': Math.round(EVENTS / seconds),
    'stream / raw': Number((EVENTS / seconds / raw).toFixed(2)),
    'without raw landing ev/s': Math.round(EVENTS / bareSeconds),
    batches: report.batches,
    'peak RSS MB': mb(peak),
  };
}

async function latency(name: string, logUrl: string): Promise<Record<string, unknown>> {
  const config = await project(`${name}-latency`, logUrl);
  const stream = config.streams[STREAM]!;
  const log = await openLog(config.log);
  await log.createTopic(stream.topic, 3);
  await log.close();
  const controller = new AbortController();
  const running = runStream(config, STREAM, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 2000));
  process.stderr.write(`${name}: producing ${RATE} events/s for ${SECONDS} s…\n`);
  const count = RATE * SECONDS;
  const producer = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'test/fixtures/cli.ts'),
      'produce',
      stream.topic,
      '--from',
      'generator',
      '--rate',
      String(RATE),
      '--count',
      String(count),
      '--project',
      config.projectDir,
      '--json',
    ],
    { cwd: root, env: { ...process.env, TRIBUTARY_LOG: logUrl }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  producer.stdout.on('data', (d) => (out += d));
  await new Promise((resolve) => producer.on('close', resolve));
  const sent = (JSON.parse(out) as { sent: number }).sent;
  // Let the stream catch up, then stop it (the batch in hand is committed first).
  await new Promise((r) => setTimeout(r, 3000));
  controller.abort();
  const report = await running;
  if (report.records < sent) throw new Error(`${name}: the stream processed ${report.records} of ${sent}`);

  // Per event: log timestamp → commit time of the snapshot that added its raw-landing file.
  const lake = await Lake.open(config);
  try {
    const table = stream.landing === false ? undefined : (stream.landing ?? 'bronze.ventes_live_raw');
    const resolved = (await lake.catalog.resolveSnapshot(table!))!;
    const history = new Map((await lake.history(table!)).map((s) => [s.snapshotId, s.committedAt.getTime()]));
    const files = resolved.files.map((f) => `(${quoteLiteral(lake.storage.readPath(f.path))}, ${history.get(f.addedSnapshot)!})`).join(', ');
    const [row] = await lake.engine.all(
      `WITH commits(file, committed_ms) AS (VALUES ${files}),
            events AS (SELECT committed_ms - epoch_ms("timestamp") AS ms FROM read_parquet([${resolved.files.map((f) => quoteLiteral(lake.storage.readPath(f.path))).join(', ')}], filename = true) r JOIN commits ON r.filename = commits.file)
       SELECT count(*) AS n, quantile_cont(ms, 0.5) AS p50, quantile_cont(ms, 0.99) AS p99, max(ms) AS max FROM events`,
    );
    return {
      log: name,
      'rate ev/s': RATE,
      events: Number(row!.n),
      'p50 ms': Math.round(Number(row!.p50)),
      'p99 ms': Math.round(Number(row!.p99)),
      'max ms': Math.round(Number(row!.max)),
      batches: report.batches,
    };
  } finally {
    await lake.close();
  }
}

try {
  const logs: [string, string][] = [
    ['embedded', 'embedded'],
    ['kafka', `kafka://${broker.bootstrap}`],
  ];
  const results = [];
  for (const [name, url] of logs) results.push(await throughput(name, url));
  console.table(results);
  const latencies = [];
  for (const [name, url] of logs) latencies.push(await latency(name, url));
  console.table(latencies);
} finally {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
}
