import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { ResolvedConfig } from '../src/config/types.js';
import { Lake } from '../src/lake/lake.js';
import type { Log } from '../src/log/log.js';
import { openLog } from '../src/log/open.js';
import { SalesEventGenerator } from '../src/produce/sales-events.js';
import { ROOT, tempDir } from './support/helpers.js';
import { tumblingTruth, windowTable, type Sale } from './support/sales-truth.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

const STREAM = 'ventes-live';

/**
 * Starts the worker and SIGKILLs it at a random point: most often a few ms after its n-th commit (inside or just
 * after the next batch's work), sometimes at a random time after start. Resolves with the commits it made.
 */
function killWorker(dir: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/stream-worker.ts'), dir, STREAM], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let commits = 0;
    const afterCommit = Math.random() < 0.8 ? 1 + Math.floor(Math.random() * 3) : 0;
    const kill = (ms: number) => setTimeout(() => child.kill('SIGKILL'), ms);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line === 'ready') kill(afterCommit === 0 ? 300 + Math.floor(Math.random() * 900) : 8000); // also when no commit comes
        if (line === 'commit' && ++commits === afterCommit) kill(Math.floor(Math.random() * 400)); // anywhere in the next batch's cycle
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(commits) : reject(new Error(`worker exited on its own: ${stderr}`))));
  });
}

function drain(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/stream-worker.ts'), dir, STREAM, 'available-now'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`drain failed: ${stderr}`))));
  });
}

/**
 * Sends a known set of events (1% poison pills) in chunks, with pauses, until `enough()` says so (and at least 6,000):
 * production goes on while workers are being killed.
 */
async function produce(log: Log, topic: string, sales: Sale[], enough: () => boolean): Promise<{ total: number; poison: number }> {
  const generator = new SalesEventGenerator({ seed: 11, disorderMs: 10_000, poisonShare: 0.01 });
  const start = Date.parse('2026-11-22T08:00:00Z');
  const producer = await log.producer();
  let poison = 0;
  let sent = 0;
  while ((sent < 6000 || !enough()) && sent < 60_000) {
    const batch = [];
    for (let i = 0; i < 300; i++, sent++) {
      const e = generator.next(start + sent * 200);
      if (e.kind === 'poison') poison++;
      else sales.push(JSON.parse(e.value.toString()) as Sale);
      batch.push({ topic, key: e.key, value: e.value });
    }
    await producer.send(batch);
    await new Promise((r) => setTimeout(r, 300));
  }
  await producer.close();
  return { total: sent, poison };
}

describe.each([
  ['embedded log', () => ({})],
  ['Kafka', () => ({ TRIBUTARY_LOG: `kafka://${inject('kafkaBootstrap')}` })],
] as const)('a stream worker killed with SIGKILL over and over (%s)', (_name, environment) => {
  it('ends with every window, raw record and dead letter exactly once', { timeout: 240_000 }, async () => {
    const env: NodeJS.ProcessEnv = environment();
    const dir = path.join(tempDir('trib-stream-crash-'), 'project');
    copyProjectFiles(path.join(ROOT, 'examples/ventes-live'), dir);
    const previous = process.env.TRIBUTARY_LOG;
    if (env.TRIBUTARY_LOG) process.env.TRIBUTARY_LOG = env.TRIBUTARY_LOG;
    let config: ResolvedConfig;
    try {
      config = await loadConfig(dir);
    } finally {
      if (previous === undefined) delete process.env.TRIBUTARY_LOG;
      else process.env.TRIBUTARY_LOG = previous;
    }
    const log = await openLog(config.log);
    const topic = config.streams[STREAM]!.topic;
    await log.createTopic(topic, 3);

    const sales: Sale[] = [];
    // Kill workers while the producer runs, until 12 of them had committed something before dying.
    let kills = 0;
    let afterCommits = 0;
    // On a loaded machine more kills land before a first commit: up to 120 tries to get 12 that landed after one.
    const producing = produce(log, topic, sales, () => afterCommits >= 12 || kills >= 120);
    let done = false;
    void producing.finally(() => (done = true));
    while (!done) {
      if ((await killWorker(dir, env)) > 0) afterCommits++;
      kills++;
    }
    const { total, poison } = await producing;
    expect(afterCommits).toBeGreaterThanOrEqual(12);
    await drain(dir, env);
    await log.close();

    const lake = await Lake.open(config);
    try {
      const raw = await lake.query(`SELECT count(*) AS n, count(DISTINCT ("partition", "offset")) AS d FROM bronze.ventes_live_raw`);
      expect(raw.rows[0]).toEqual({ n: BigInt(total), d: BigInt(total) });
      const dlq = await lake.query(`SELECT count(*) AS n, count(DISTINCT ("partition", "offset")) AS d FROM bronze.ventes_live_dlq`);
      expect(dlq.rows[0]).toEqual({ n: BigInt(poison), d: BigInt(poison) });
      const late = await lake.query(`SELECT count(*) AS n FROM bronze.ventes_live_late`);
      expect(Number(late.rows[0]!.n)).toBe(0); // out-of-orderness (10 s) stays within the watermark (30 s)

      const checkpoint = (await lake.catalog.streams.checkpoint(STREAM))!;
      const watermark = checkpoint.watermark!.getTime();
      const truth = tumblingTruth(sales);
      const closedTruth = new Map([...truth].filter(([key]) => Date.parse(key.split('|')[0]!) + 60_000 <= watermark));
      expect(await windowTable(lake, 'gold.ventes_live_par_pays')).toEqual(closedTruth);
      // On-update: final and open windows together, every one exact.
      expect(await windowTable(lake, 'gold.ventes_5min_glissantes')).toEqual(tumblingTruth(sales, 300_000, 60_000));
      expect(checkpoint.seq).toBeGreaterThan(afterCommits);
    } finally {
      await lake.close();
    }
  });
});
