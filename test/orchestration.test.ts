import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { runIngest } from '../src/ingest/run.js';
import { cancelBackfill, createBackfill, feedBackfills, planBackfill, resumeBackfill, backfillStatus } from '../src/orchestration/backfill.js';
import { flushNotifications, projectWorker } from '../src/orchestration/notify.js';
import { Orchestration } from '../src/orchestration/orchestration.js';
import { partitionBefore, partitionRange } from '../src/orchestration/partitions.js';
import { backoffDelay } from '../src/catalog/stores/run-queue.js';
import type { RunStatus } from '../src/catalog/types.js';
import { Schedule } from '../src/orchestration/schedule.js';
import { Scheduler } from '../src/orchestration/scheduler.js';
import { evaluateSensor } from '../src/orchestration/sensors.js';
import type { Worker } from '../src/orchestration/worker.js';
import { cli, tempDir } from './support/helpers.js';

const silent = pino({ level: 'silent' });

describe('cron schedules', () => {
  it('fire at the right instants across daylight-saving changes, as Vixie cron does', () => {
    const paris = new Schedule('30 2 * * *', 'Europe/Paris', 'test');
    const fires = (s: Schedule, from: string, n: number) => {
      const out: string[] = [];
      for (let t = new Date(from), i = 0; i < n; i++) out.push((t = s.next(t)!).toISOString());
      return out;
    };
    // Spring forward (29 March 2026, 02:00 → 03:00): 02:30 does not exist and fires at 03:00 local, once.
    expect(fires(paris, '2026-03-27T12:00:00Z', 3)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    // Fall back (25 October 2026, 03:00 → 02:00): 02:30 happens twice and fires once.
    expect(fires(paris, '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    // An hourly schedule keeps its pace through the repeated hour (New York, 1 November 2026).
    const hourly = fires(new Schedule('0 * * * *', 'America/New_York', 'test'), '2026-11-01T04:30:00Z', 4);
    expect(hourly).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z']);
    // @daily in a time zone is local midnight.
    expect(new Schedule('@daily', 'Asia/Tokyo', 'test').next(new Date('2026-06-01T00:00:00Z'))!.toISOString()).toBe('2026-06-01T15:00:00.000Z');
    // lastDue: the latest tick missed, not each of them.
    expect(new Schedule('0 * * * *', 'UTC', 't').lastDue(new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T05:30:00Z'))!.toISOString()).toBe(
      '2026-01-01T05:00:00.000Z',
    );
  });

  it('refuses bad expressions and time zones, naming the option', () => {
    expect(() => new Schedule('61 * * * *', 'UTC', 'jobs.daily.schedule')).toThrow(/jobs\.daily\.schedule: "61 \* \* \* \*" is not a cron expression/);
    expect(() => new Schedule('@daily', 'Mars/Olympus', 'jobs.daily.timezone')).toThrow(/jobs\.daily\.timezone: "Mars\/Olympus" is not an IANA time zone/);
  });

  it('partitions: ranges, and the period a schedule just closed in its time zone', () => {
    expect(partitionRange('day', '2011-02-27', '2011-03-02')).toEqual(['2011-02-27', '2011-02-28', '2011-03-01', '2011-03-02']);
    expect(partitionRange('month', '2011-11', '2012-02-15')).toEqual(['2011-11', '2011-12', '2012-01', '2012-02']);
    expect(() => partitionRange('day', '2011-02-30', '2011-03-01')).toThrow(/--from: "2011-02-30" is not a date/);
    // 00:30 UTC on 1 March is still 28 February in New York: the day that ended there is the 27th.
    expect(partitionBefore('day', new Date('2011-03-01T00:30:00Z'), 'America/New_York')).toBe('2011-02-27');
    expect(partitionBefore('day', new Date('2011-03-01T00:30:00Z'), 'Europe/Paris')).toBe('2011-02-28');
    expect(partitionBefore('month', new Date('2011-01-01T02:00:00Z'), 'UTC')).toBe('2010-12');
  });
});

describe('retry backoff', () => {
  it('doubles per attempt up to the cap, with jitter in the upper half', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 1000, 60_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
    const samples = Array.from({ length: 200 }, () => backoffDelay(3, 1000, 60_000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(4000);
    expect(new Set(samples).size).toBeGreaterThan(50);
  });
});

/** A project on disk (task processes load its config), with its lake and orchestration open. */
async function project(
  config: string,
  files: Record<string, string> = {},
  cleanup: (fn: () => Promise<void> | void) => void = onTestFinished,
): Promise<{ dir: string; lake: Lake; orch: Orchestration; write: (rel: string, content: string) => void }> {
  const dir = tempDir('trib-orch-');
  const write = (rel: string, content: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  };
  write('tributary.config.mjs', `export default ${config};\n`);
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  const lake = await Lake.open(await loadConfig(dir, { required: true }));
  cleanup(() => lake.close());
  return { dir, lake, orch: await Orchestration.open(lake), write };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function finished(orch: Orchestration, runId: string, timeoutMs = 90_000): Promise<RunStatus> {
  return waitFor(
    `run ${runId}`,
    async () => {
      const run = await orch.lake.catalog.runs.get(runId);
      return run && !['queued', 'running'].includes(run.status) ? run.status : undefined;
    },
    timeoutMs,
  );
}

function startWorker(orch: Orchestration, concurrency = 2, cleanup: (fn: () => Promise<void> | void) => void = onTestFinished): Worker {
  const worker = projectWorker(orch.lake.config, orch.queue, silent, { concurrency });
  worker.start();
  cleanup(() => worker.stop(0));
  return worker;
}

const SALES = 'id,amount,day\n1,10,2011-01-04\n2,20,2011-01-04\n';
const BASE_MODELS = {
  'models/silver/sales.sql': 'select id, amount, cast(day as date) as day from bronze.sales',
  'models/gold/daily.sql': 'select day, sum(amount) as total from silver.sales group by day',
};

describe('runs of jobs', () => {
  describe('a job run with a failing model', () => {
    // One run of a job whose silver.countries fails, then its retry once fixed; each test reads one behaviour of it.
    const cleanups: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const fn of cleanups.reverse()) await fn();
    });
    let orch: Orchestration;
    let lake: Lake;
    let write: (rel: string, content: string) => void;
    let runId: string;
    let tasks: Map<string, Awaited<ReturnType<Orchestration['queue']['tasks']>>[number]>;
    let attempts: Awaited<ReturnType<Orchestration['queue']['attempts']>>;
    beforeAll(async () => {
      ({ orch, lake, write } = await project(
        `{
      sources: {
        sales: { kind: 'files', glob: 'data/sales*.csv', into: 'bronze.sales' },
        countries: { kind: 'files', glob: 'data/countries.csv', into: 'bronze.countries' },
      },
      checks: { 'bronze.sales': [{ kind: 'not_null', column: 'id' }] },
      jobs: { all: { select: ['*'], retries: 1, retryDelay: '200ms', concurrency: 2 } },
    }`,
        {
          'data/sales.csv': SALES,
          'data/countries.csv': 'code,name\nFR,France\n',
          ...BASE_MODELS,
          'models/silver/countries.sql': "select code, name, cast('x' as integer) as broken from bronze.countries",
          'models/gold/countries.sql': 'select count(*) as n from silver.countries',
        },
        (fn) => cleanups.push(fn),
      ));
      const worker = startWorker(orch, 2, (fn) => cleanups.push(fn));
      runId = await orch.launch('all');
      expect(await finished(orch, runId)).toBe('failed');
      await worker.stop(0);
      tasks = new Map((await orch.queue.tasks(runId)).map((t) => [t.task, t]));
      attempts = await orch.queue.attempts(runId);
    }, 180_000);

    it('plans every selected asset after the assets it waits for', () => {
      const job = orch.job('all');
      expect(Object.fromEntries(job.tasks.map((t) => [t.key, t.upstream]))).toEqual({
        'source:countries': [],
        'silver.countries': ['source:countries'],
        'gold.countries': ['silver.countries'],
        'source:sales': [],
        'check:bronze.sales': ['source:sales'],
        'silver.sales': ['check:bronze.sales'],
        'gold.daily': ['silver.sales'],
      });
      const order = job.tasks.map((t) => t.key);
      for (const t of job.tasks) for (const u of t.upstream) expect(order.indexOf(u)).toBeLessThan(order.indexOf(t.key));
    });

    it('starts each task after its upstream finished, and independent ones at the same time', () => {
      for (const t of tasks.values()) {
        for (const u of t.upstream) expect(t.startedAt === undefined || t.startedAt >= tasks.get(u)!.finishedAt!).toBe(true);
      }
      const first = (task: string) => attempts.find((a) => a.task === task && a.attempt === 1)!;
      expect(first('source:sales').startedAt.getTime()).toBeLessThan(first('source:countries').finishedAt!.getTime());
      expect(first('source:countries').startedAt.getTime()).toBeLessThan(first('source:sales').finishedAt!.getTime());
    });

    it('retries a failed task after a backoff, recording each attempt with its logs', () => {
      expect(tasks.get('silver.countries')!.attempts).toBe(2);
      expect(tasks.get('silver.countries')!.error).toMatch(/Could not convert|Conversion Error/);
      const failing = attempts.filter((a) => a.task === 'silver.countries');
      expect(failing.map((a) => a.status)).toEqual(['failed', 'failed']);
      expect(failing[1]!.startedAt.getTime() - failing[0]!.finishedAt!.getTime()).toBeGreaterThanOrEqual(100);
      expect(failing[0]!.logs).toMatch(/"runId":"job-[^"]+","job":"all","task":"silver.countries","attempt":1/);
      expect(failing[0]!.logs).toMatch(/"level":50/);
    });

    it('stops only what depends on the failure: the rest of the run completes', async () => {
      expect(Object.fromEntries([...tasks].map(([k, t]) => [k, t.status]))).toEqual({
        'source:countries': 'success',
        'silver.countries': 'failed',
        'gold.countries': 'upstream_failed',
        'source:sales': 'success',
        'check:bronze.sales': 'success',
        'silver.sales': 'success',
        'gold.daily': 'success',
      });
      expect(tasks.get('gold.countries')!.attempts).toBe(0);
      expect(Number((await lake.query('select total from gold.daily')).rows[0]!.total)).toBe(30);
    });

    it('retry, once the model is fixed, runs only the failed task and what it had held back', { timeout: 180_000 }, async () => {
      write('models/silver/countries.sql', 'select code, name from bronze.countries');
      const fixed = await Orchestration.open(lake);
      const retryId = await fixed.retry(runId);
      expect((await fixed.queue.tasks(retryId)).map((t) => [t.task, t.upstream])).toEqual([
        ['silver.countries', []],
        ['gold.countries', ['silver.countries']],
      ]);
      const worker2 = startWorker(fixed, 2);
      expect(await finished(fixed, retryId)).toBe('success');
      await worker2.stop(0);
      expect((await fixed.lake.catalog.runs.get(retryId))!.parentRun).toBe(runId);
    });
  });

  it('a task past its timeout is stopped; a cancelled run stops its running task and what was waiting', { timeout: 120_000 }, async () => {
    const { orch, lake } = await project(
      `{
      sources: { sales: { kind: 'files', glob: 'data/*.csv', into: 'bronze.sales' } },
      jobs: {
        slow: { select: ['silver.slow+'], timeout: '4s', retries: 0 },
        cancel: { select: ['silver.slow+'] },
      },
    }`,
      {
        'data/sales.csv': SALES,
        'models/silver/slow.sql': 'select count(*) as n, sum(range % 7) as s from range(1000000000000), (select count(*) from bronze.sales)',
        'models/gold/slow.sql': 'select * from silver.slow',
      },
    );
    await runIngest(lake, ['sales']);
    startWorker(orch, 1);
    const timedOut = await orch.launch('slow');
    expect(await finished(orch, timedOut)).toBe('failed');
    const tasks = await orch.queue.tasks(timedOut);
    expect(tasks.find((t) => t.task === 'silver.slow')).toMatchObject({ status: 'failed', error: 'timed out after 4 s' });
    expect(tasks.find((t) => t.task === 'gold.slow')!.status).toBe('upstream_failed');
    expect((await orch.queue.attempts(timedOut)).find((a) => a.task === 'silver.slow')!.status).toBe('timed_out');

    const cancelled = await orch.launch('cancel');
    await waitFor('the slow task to run', async () => (await orch.queue.tasks(cancelled)).find((t) => t.task === 'silver.slow' && t.status === 'running'));
    await orch.queue.cancel(cancelled);
    expect(await finished(orch, cancelled, 30_000)).toBe('cancelled');
    // The running task is stopped when its worker next reports (heartbeat, 5 s by default).
    await waitFor('the running task to stop', async () => (await orch.queue.tasks(cancelled)).every((t) => t.status !== 'running'), 30_000);
    const after = new Map((await orch.queue.tasks(cancelled)).map((t) => [t.task, t.status]));
    expect(after.get('silver.slow')).toBe('cancelled');
    expect(after.get('gold.slow')).toBe('cancelled');
    expect((await orch.queue.attempts(cancelled)).find((a) => a.task === 'silver.slow')!.status).toBe('cancelled');
  });

  it('posts a Slack-compatible message to the webhook when a run fails', { timeout: 60_000 }, async () => {
    const received: { text: string; run: { status: string; job: string } }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req
        .on('data', (d) => (body += d))
        .on('end', () => {
          received.push(JSON.parse(body));
          res.end('ok');
        });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const { orch } = await project(
      `{
      sources: { sales: { kind: 'files', glob: 'data/*.csv', into: 'bronze.sales' } },
      checks: { 'bronze.sales': [{ kind: 'accepted_values', column: 'amount', values: [1] }] },
      jobs: { nightly: { select: ['source:sales', 'check:bronze.sales'] } },
      orchestration: { webhook: '${url}' },
    }`,
      { 'data/sales.csv': SALES },
    );
    startWorker(orch);
    const runId = await orch.launch('nightly');
    expect(await finished(orch, runId)).toBe('failed');
    // Failed checks are not retried: the same data would fail them again.
    expect((await orch.queue.tasks(runId)).find((t) => t.task === 'check:bronze.sales')).toMatchObject({ status: 'failed', attempts: 1 });
    await flushNotifications();
    await waitFor('the webhook', async () => received.length > 0);
    expect(received[0]!.text).toMatch(
      /:x: .*job \*nightly\* failed after [\d.]+ s — run job-.*\n> check:bronze.sales: checks failed on bronze.sales: accepted_values\(amount\)/,
    );
    expect(received[0]!.run).toMatchObject({ status: 'failed', job: 'nightly' });
  });
});

describe('run queue', () => {
  const config = `{
      sources: { a: { kind: 'files', glob: 'data/*.csv', into: 'bronze.a' } },
      jobs: { one: { select: ['source:a'], retries: 1, retryDelay: '1ms' } },
    }`;

  it('spares a worker that reports within lostAfter, and declares lost one that does not', { timeout: 60_000 }, async () => {
    const { orch } = await project(config);
    const runId = await orch.launch('one');
    const claim = (await orch.queue.claim('A', { runId }))!;
    expect(claim).toMatchObject({ runId, task: 'source:a', attempt: 1 });
    expect(await orch.queue.reapLost(60_000)).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect((await orch.queue.reapLost(1)).map((l) => [l.runId, l.worker])).toEqual([[runId, 'A']]);
  });

  it('a worker declared lost learns it at its next heartbeat, and its late report is ignored', { timeout: 60_000 }, async () => {
    const { orch } = await project(config);
    const runId = await orch.launch('one');
    const slow = (await orch.queue.claim('A', { runId }))!;
    await new Promise((r) => setTimeout(r, 50));
    await orch.queue.reapLost(1);
    await new Promise((r) => setTimeout(r, 10));
    const retry = (await orch.queue.claim('B', { runId }))!;
    expect(retry.attempt).toBe(2);
    expect(await orch.queue.heartbeat('A', [slow])).toEqual([{ runId, task: 'source:a', reason: 'lost' }]);
    expect(await orch.queue.heartbeat('B', [retry])).toEqual([]);
    await orch.queue.finishAttempt(slow, { status: 'success' }); // too late: B owns the task now
    expect((await orch.queue.tasks(runId))[0]).toMatchObject({ status: 'running', worker: 'B', attempts: 2 });
    expect((await orch.queue.finishAttempt(retry, { status: 'success' })).finishedRun).toMatchObject({ runId, status: 'success' });
    expect((await orch.queue.attempts(runId)).map((a) => [a.worker, a.status])).toEqual([
      ['A', 'lost'],
      ['B', 'success'],
    ]);
  });

  it('a claim scoped to one run leaves the other runs queued', { timeout: 60_000 }, async () => {
    const { orch } = await project(config);
    const first = await orch.launch('one');
    const second = await orch.launch('one');
    expect(await orch.queue.claim('A', { runId: second })).toMatchObject({ runId: second });
    expect(await orch.queue.claim('A', { runId: second })).toBeUndefined();
    expect((await orch.lake.catalog.runs.get(first))!.status).toBe('queued');
  });

  it('cancels a queued run, and refuses to cancel a finished one', { timeout: 60_000 }, async () => {
    const { orch } = await project(config);
    const queued = await orch.launch('one');
    const done = await orch.launch('one');
    const claim = (await orch.queue.claim('A', { runId: done }))!;
    await orch.queue.finishAttempt(claim, { status: 'success' });
    await expect(orch.queue.cancel(done)).rejects.toThrow(/already success/);
    expect((await orch.queue.cancel(queued))!.status).toBe('cancelled');
    expect((await orch.lake.catalog.runs.get(queued))!.status).toBe('cancelled');
  });
});

describe('scheduler', () => {
  it('fires a due schedule once, even with two schedulers, for the partition that just ended', { timeout: 60_000 }, async () => {
    const { orch, lake } = await project(`{
      sources: { sales: { kind: 'files', glob: 'data/sales-{partition}.csv', into: 'bronze.sales' } },
      jobs: { daily: { select: ['source:sales'], schedule: '0 2 * * *', timezone: 'Europe/Paris', partitions: { granularity: 'day', start: '2011-01-01' } } },
    }`);
    const a = new Scheduler(orch, { logger: silent });
    const b = new Scheduler(await Orchestration.open(lake), { logger: silent });
    expect(await a.tick(new Date('2026-11-22T12:00:00Z'))).toEqual([]); // first sight: counts from now
    expect(await a.tick(new Date('2026-11-23T00:59:00Z'))).toEqual([]);
    const fired = [...(await Promise.all([a.tick(new Date('2026-11-23T01:00:30Z')), b.tick(new Date('2026-11-23T01:00:31Z'))]))].flat();
    expect(fired).toHaveLength(1);
    const run = (await orch.lake.catalog.runs.get(fired[0]!))!;
    expect(run).toMatchObject({ job: 'daily', trigger: 'schedule', partition: '2026-11-22', status: 'queued' });
    expect(run.detail).toBe('0 2 * * * (Europe/Paris) at 2026-11-23T01:00:00.000Z');
    expect(await a.tick(new Date('2026-11-23T01:05:00Z'))).toEqual([]);
    // Down for three days: the latest missed tick fires once (backfill is for the rest).
    const late = await a.tick(new Date('2026-11-26T09:00:00Z'));
    expect(late).toHaveLength(1);
    expect((await orch.lake.catalog.runs.get(late[0]!))!.partition).toBe('2026-11-25');
  });

  it('sensors fire on new files, a new snapshot, and a changed HTTP answer, and not otherwise', { timeout: 60_000 }, async () => {
    let status = 503;
    let body = 'v1';
    const server = createServer((_req, res) => res.writeHead(status).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ready`;
    const { orch, lake, write } = await project(`{
      sources: { docs: { kind: 'files', glob: 'inbox/*.csv', into: 'bronze.docs' } },
      jobs: { ocr: { select: ['source:docs'] } },
      sensors: {
        inbox: { kind: 'files', glob: 'inbox/*.csv', job: 'ocr', interval: '1s' },
        upstream: { kind: 'table', table: 'bronze.docs', job: 'ocr' },
        api: { kind: 'http', url: '${url}', job: 'ocr' },
      },
    }`);
    const sensors = lake.config.sensors;
    let inbox = await evaluateSensor('inbox', sensors.inbox!, lake, undefined);
    expect(inbox.fire).toBe(false);
    write('inbox/a.csv', 'id\n1\n');
    inbox = await evaluateSensor('inbox', sensors.inbox!, lake, inbox.cursor);
    expect(inbox).toMatchObject({ fire: true, detail: 'inbox: 1 new file(s): inbox/a.csv' });
    expect((await evaluateSensor('inbox', sensors.inbox!, lake, inbox.cursor)).fire).toBe(false);
    write('inbox/b.csv', 'id\n2\n');
    expect((await evaluateSensor('inbox', sensors.inbox!, lake, inbox.cursor)).detail).toBe('inbox: 1 new file(s): inbox/b.csv');

    let table = await evaluateSensor('upstream', sensors.upstream!, lake, undefined);
    expect(table.fire).toBe(false);
    await runIngest(lake, ['docs']);
    table = await evaluateSensor('upstream', sensors.upstream!, lake, table.cursor);
    expect(table).toMatchObject({ fire: true, detail: 'upstream: bronze.docs is at snapshot 1' });
    expect((await evaluateSensor('upstream', sensors.upstream!, lake, table.cursor)).fire).toBe(false);

    let api = await evaluateSensor('api', sensors.api!, lake, undefined);
    expect(api).toMatchObject({ fire: false, detail: expect.stringContaining('answered 503') });
    status = 200;
    api = await evaluateSensor('api', sensors.api!, lake, api.cursor);
    expect(api.fire).toBe(true);
    expect((api = await evaluateSensor('api', sensors.api!, lake, api.cursor)).fire).toBe(false);
    body = 'v2';
    expect((await evaluateSensor('api', sensors.api!, lake, api.cursor)).fire).toBe(true);

    // Through the scheduler: the file sensor starts one run of its job, and not a second one while it is queued.
    const scheduler = new Scheduler(orch, { logger: silent });
    const first = await scheduler.tick(new Date());
    expect(first.length).toBeGreaterThanOrEqual(1);
    const runs = await orch.lake.catalog.runs.list({ job: 'ocr' });
    expect(runs.find((r) => r.detail?.startsWith('inbox:'))).toMatchObject({ trigger: 'sensor', status: 'queued' });
    write('inbox/c.csv', 'id\n3\n');
    await scheduler.tick(new Date(Date.now() + 2000));
    expect((await orch.lake.catalog.runs.list({ job: 'ocr' })).filter((r) => r.detail?.startsWith('inbox:'))).toHaveLength(1);
  });

  it('automation rebuilds automated models when their inputs change, and only then', { timeout: 120_000 }, async () => {
    const { orch, lake, write } = await project(
      `{
      sources: { sales: { kind: 'files', glob: 'data/*.csv', into: 'bronze.sales' } },
      automate: ['silver', 'gold.*'],
    }`,
      { 'data/sales-1.csv': SALES, ...BASE_MODELS },
    );
    expect(orch.automated).toEqual(['silver.sales', 'gold.daily']);
    const scheduler = new Scheduler(orch, { logger: silent, automationMs: 0 });
    expect(await scheduler.tick()).toEqual([]); // no input yet
    await runIngest(lake, ['sales']);
    const [runId] = await scheduler.tick();
    expect((await orch.queue.tasks(runId!)).map((t) => [t.task, t.upstream])).toEqual([
      ['silver.sales', []],
      ['gold.daily', ['silver.sales']],
    ]);
    expect((await orch.lake.catalog.runs.get(runId!))!.trigger).toBe('automation');
    expect(await scheduler.tick()).toEqual([]); // one automation run at a time
    const worker = startWorker(orch);
    expect(await finished(orch, runId!)).toBe('success');
    expect(await scheduler.tick()).toEqual([]); // nothing changed since
    write('data/sales-2.csv', 'id,amount,day\n3,5,2011-01-05\n');
    await runIngest(lake, ['sales']);
    const [second] = await scheduler.tick();
    expect(await finished(orch, second!)).toBe('success');
    await worker.stop(0);
    expect((await lake.query('select count(*) as n from gold.daily')).rows).toEqual([{ n: 2n }]);
  });
});

describe('backfill', () => {
  it('plans missing and failed partitions, runs them a few at a time behind fresh runs, can be cancelled and resumed', { timeout: 180_000 }, async () => {
    const { orch, lake, write } = await project(`{
      sources: { sales: { kind: 'files', glob: 'data/sales-{partition}.csv', into: 'bronze.sales' } },
      jobs: { daily: { select: ['source:sales'], partitions: { granularity: 'day', start: '2011-01-01' }, retries: 0 } },
    }`);
    for (const day of ['2011-01-02', '2011-01-03', '2011-01-04', '2011-01-05', '2011-01-06']) write(`data/sales-${day}.csv`, `id,amount,day\n1,10,${day}\n`);
    const worker = startWorker(orch, 2);
    const done = await orch.launch('daily', { partition: '2011-01-03' });
    expect(await finished(orch, done)).toBe('success');
    await worker.stop(0);

    let plan = await planBackfill(orch, 'daily', '2011-01-02', '2011-01-06');
    expect(plan.planned.map((p) => `${p.partition}:${p.reason}`)).toEqual([
      '2011-01-02:missing',
      '2011-01-04:missing',
      '2011-01-05:missing',
      '2011-01-06:missing',
    ]);
    expect(plan.skipped).toEqual([{ partition: '2011-01-03', status: 'success' }]);
    await expect(planBackfill(orch, 'daily', '2010-12-30', '2011-01-02')).rejects.toThrow(/before the job's first partition \(2011-01-01\)/);

    const id = await createBackfill(orch, plan, 1);
    const [firstRun] = await feedBackfills(orch);
    expect(await feedBackfills(orch)).toEqual([]); // parallelism 1: one at a time
    // A fresh run queued after the backfill's is claimed first.
    const fresh = await orch.launch('daily', { partition: '2011-01-07' });
    const claimed = await orch.queue.claim('probe');
    expect(claimed!.runId).toBe(fresh);
    await orch.queue.finishAttempt(claimed!, { status: 'interrupted' });
    expect((await orch.lake.catalog.runs.get(firstRun!))!.partition).toBe('2011-01-02');

    // Cancel mid-way, then resume: what had not succeeded runs, and the backfill completes.
    await cancelBackfill(orch, id);
    expect((await backfillStatus(orch, id)).status).toBe('cancelled');
    expect((await orch.lake.catalog.runs.get(firstRun!))!.status).toBe('cancelled');
    await orch.queue.cancel(fresh);
    await resumeBackfill(orch, id);
    const worker2 = startWorker(orch, 2);
    await waitFor(
      'the backfill',
      async () => {
        await feedBackfills(orch);
        const s = await backfillStatus(orch, id);
        return s.status !== 'running' ? s : undefined;
      },
      120_000,
    );
    await worker2.stop(0);
    const status = await backfillStatus(orch, id);
    expect(status.partitions.map((p) => `${p.partition}:${p.status}`)).toEqual([
      '2011-01-02:success',
      '2011-01-04:success',
      '2011-01-05:success',
      '2011-01-06:success',
    ]);
    expect(status.status).toBe('success');
    expect((await lake.query('select count(*) as n from bronze.sales')).rows).toEqual([{ n: 5n }]);
    // Nothing left to do over the same range.
    plan = await planBackfill(orch, 'daily', '2011-01-02', '2011-01-06');
    expect(plan.planned).toEqual([]);
  });
});

describe('the orchestration CLI', () => {
  // One project for the steps below, which run in order (the backfill plan and the cancel read the run made before).
  let project_: string[] = [];
  let runId = '';
  beforeAll(() => {
    // Only files: the commands below open the project themselves.
    const dir = tempDir('trib-orch-cli-');
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(
      path.join(dir, 'tributary.config.mjs'),
      `export default {
      sources: { sales: { kind: 'files', glob: 'data/sales-{partition}.csv', into: 'bronze.sales' } },
      jobs: { daily: { select: ['source:sales'], schedule: '0 2 * * *', timezone: 'Europe/Paris', partitions: { granularity: 'day', start: '2011-01-01' } } },
    };\n`,
    );
    writeFileSync(path.join(dir, 'data/sales-2011-01-04.csv'), SALES);
    project_ = ['--project', dir];
  });

  it('lists jobs with their assets, schedule, time zone, next fire time and partitions', async () => {
    const jobs = JSON.parse((await cli(['jobs', 'ls', '--json', ...project_])).stdout) as { job: string; assets: string[]; next: string; partitions: string }[];
    expect(jobs).toEqual([
      {
        job: 'daily',
        assets: ['source:sales'],
        schedule: ['0 2 * * *'],
        timezone: 'Europe/Paris',
        next: expect.stringMatching(/T0[01]:00:00.000Z$/),
        partitions: 'day from 2011-01-01',
      },
    ]);
  });

  it('names bad input: a partitioned job run without its partition, an unknown job, an impossible date', async () => {
    const missing = await cli(['jobs', 'run', 'daily', ...project_]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('job daily is partitioned by day: name the partition to run');
    const unknown = await cli(['jobs', 'run', 'nightly', ...project_]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('no job "nightly" (jobs: daily)');
    const bad = await cli(['backfill', 'daily', '--from', '2011-02-30', '--to', '2011-03-01', ...project_]);
    expect(bad.stderr).toContain('--from: "2011-02-30" is not a date YYYY-MM-DD');
  });

  it('runs a partition with progress on stderr, and shows its tasks and logs', { timeout: 60_000 }, async () => {
    const ran = await cli(['jobs', 'run', 'daily', '--partition', '2011-01-04', '--json', ...project_]);
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as { runId: string; status: string; tasks: { task: string; status: string }[] };
    expect(run).toMatchObject({ status: 'success', tasks: [{ task: 'source:sales', status: 'success' }] });
    runId = run.runId;
    // Progress: the worker's log lines, with the run and task ids, on stderr.
    expect(ran.stderr).toContain(`"runId":"${run.runId}"`);
    const shown = await cli(['runs', 'show', run.runId, '--logs', ...project_]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('triggered by manual · partition 2011-01-04');
    expect(shown.stdout).toMatch(/INFO {2}ingested 1 file\(s\) into bronze\.sales/);
    expect((await cli(['runs', 'ls', ...project_])).stdout).toMatch(/job daily\s+manual\s+2011-01-04\s+success/);
  });

  it('plans a backfill around the partitions that succeeded', async () => {
    const plan = await cli(['backfill', 'daily', '--from', '2011-01-03', '--to', '2011-01-05', '--dry-run', ...project_]);
    expect(plan.stdout).toBe(
      'backfill of daily: 2 partition(s) to run, 1 left alone\n  run   2011-01-03  (missing)\n  run   2011-01-05  (missing)\n  skip  2011-01-04  (success)\n',
    );
  });

  it('refuses to cancel a finished run (a conflict: exit code 5)', async () => {
    const cancel = await cli(['runs', 'cancel', runId, ...project_]);
    expect(cancel.code).toBe(5);
    expect(cancel.stderr).toContain(`run ${runId} is already success`);
  });
});
