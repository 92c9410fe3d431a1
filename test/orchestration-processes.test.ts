import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { Orchestration } from '../src/orchestration/orchestration.js';
import { PG_URL, cli, freePort, run, startCli, tempDir, waitFor } from './support/helpers.js';

function start(args: readonly string[], cleanup: (fn: () => void) => void = onTestFinished) {
  return startCli(args, { env: { TRIBUTARY_LOG_LEVEL: 'info' }, cleanup });
}

function project(config: string, files: Record<string, string>): string {
  const dir = tempDir('trib-orchp-');
  for (const [rel, content] of Object.entries({ 'tributary.config.mjs': `export default ${config};\n`, ...files })) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const SALES = 'id,amount,day\n1,10,2011-01-04\n2,20,2011-01-04\n';

describe('tributary worker: several processes sharing one PostgreSQL catalog', () => {
  it('split the tasks of a run, and a worker killed mid-task has its task retried by another', { timeout: 240_000 }, async () => {
    const schema = `t_workers_${process.pid}`;
    const slow = (n: number) => `select ${n} as model, sum(range % 7) as s from range(150000000), (select count(*) from bronze.sales)`;
    const dir = project(
      `{
      catalog: '${PG_URL}?schema=${schema}',
      sources: { sales: { kind: 'files', glob: 'data/*.csv', into: 'bronze.sales' } },
      jobs: { all: { select: ['+gold'], concurrency: 4, retries: 2, retryDelay: '100ms' } },
      orchestration: { heartbeat: '500ms', lostAfter: '3s' },
    }`,
      {
        'data/sales.csv': SALES,
        ...Object.fromEntries([1, 2, 3, 4].map((n) => [`models/gold/m${n}.sql`, slow(n)])),
      },
    );
    onTestFinished(async () => {
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });
    const lake = await Lake.open(await loadConfig(dir, { required: true }));
    onTestFinished(() => lake.close());
    const orch = await Orchestration.open(lake);
    const runStatus = async (runId: string) => {
      const r = await orch.lake.catalog.runs.get(runId);
      return r && !['queued', 'running'].includes(r.status) ? r.status : undefined;
    };

    const w1 = start(['worker', '--concurrency', '1', '--project', dir]);
    const w2 = start(['worker', '--concurrency', '1', '--project', dir]);
    const ids = [`${hostname()}:${w1.child.pid}`, `${hostname()}:${w2.child.pid}`];

    const first = await cli(['jobs', 'run', 'all', '--detach', '--json', '--project', dir]);
    expect(first.code, first.stderr).toBe(0);
    const firstRun = (JSON.parse(first.stdout) as { runId: string }).runId;
    expect(await waitFor('the first run', () => runStatus(firstRun))).toBe('success');
    const workers = new Set((await orch.queue.attempts(firstRun)).map((a) => a.worker));
    expect([...workers].sort()).toEqual([...ids].sort());

    // Second run (models rebuild: the SQL is the same but --full-refresh is not needed: change an input).
    writeFileSync(path.join(dir, 'data/more.csv'), 'id,amount,day\n3,5,2011-01-05\n');
    const second = await orch.launch('all');
    const victim = await waitFor('a model task running on worker 1', async () =>
      (await orch.queue.tasks(second)).find((t) => t.status === 'running' && t.worker === ids[0] && t.task.startsWith('gold.')),
    );
    w1.child.kill('SIGKILL');
    expect(await waitFor('the second run', () => runStatus(second), 120_000)).toBe('success');
    const attempts = (await orch.queue.attempts(second)).filter((a) => a.task === victim.task);
    expect(attempts.map((a) => [a.status, a.worker])).toEqual([
      ['lost', ids[0]],
      ['success', ids[1]],
    ]);
    expect(attempts[0]!.error).toMatch(/stopped reporting/);
    expect((await lake.query('select model, s from gold.m1')).rows).toHaveLength(1);
    expect((await lake.catalog.history(victim.task)).length).toBe(2); // one snapshot per successful build, none half-written

    w2.child.kill('SIGINT');
    expect(await w2.exited).toBe(0);
    expect(w2.out()).toContain(`worker ${ids[1]} started`);
  });
});

describe('tributary dev: schedules, a worker, the API and metrics in one process', () => {
  // One dev process through its life, in order: started, scraped by Prometheus, running a schedule and a failing
  // job, then stopped with Ctrl-C.
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const fn of cleanups) fn();
  });
  let dir: string;
  let port: number;
  let dev: ReturnType<typeof start>;
  let promPort: number;
  let runId: string;
  const api = async (p: string) => (await fetch(`http://127.0.0.1:${port}/api/v1${p}`)).json() as Promise<Record<string, unknown>>;
  const query = async (q: string) =>
    (
      (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      }
    ).data.result;

  beforeAll(async () => {
    dir = project(
      `{
      sources: { sales: { kind: 'files', glob: 'data/*.csv', into: 'bronze.sales' } },
      checks: { 'bronze.sales': [{ kind: 'accepted_values', column: 'amount', values: [10] }] },
      jobs: {
        nightly: { select: ['source:sales', 'check:bronze.sales'], retries: 0 },
        ticking: { select: ['gold.daily'], schedule: '*/10 * * * * *' },
      },
    }`,
      {
        'data/sales.csv': SALES,
        'models/gold/daily.sql': 'select 1 as one',
      },
    );
    port = await freePort();
    dev = start(['dev', '--port', String(port), '--project', dir], (fn) => cleanups.push(fn));
    await waitFor('dev to listen', async () => dev.out().includes('tributary dev:'));
  }, 120_000);

  it('starts listening, and names its jobs and the next fire time', () => {
    expect(dev.out()).toMatch(/2 job\(s\), next: ticking at/);
  });

  it('exports a Prometheus config and alert rules that promtool accepts, and Prometheus scrapes it', { timeout: 120_000 }, async () => {
    const out = tempDir('trib-devprom-');
    const exported = await cli(['monitoring', 'export', out, '--target', `127.0.0.1:${port}`, '--scrape-interval', '3s', '--project', dir]);
    expect(exported.code, exported.stderr).toBe(0);
    const rules = await run('promtool', ['check', 'rules', path.join(out, 'tributary-alerts.yml')]);
    expect(rules.code, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toContain('SUCCESS: 4 rules found');
    promPort = await freePort();
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${path.join(out, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(out, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
      { stdio: 'ignore' },
    );
    cleanups.push(() => void prometheus.kill('SIGTERM'));
    // Before any failure, the job's series exists at 0.
    await waitFor('a first scrape', async () => (await query('tributary_job_last_run_failed{job_name="nightly"}'))[0]?.value[1] === '0');
  });

  it('fires a due schedule, and its own worker runs it', { timeout: 120_000 }, async () => {
    await waitFor('a scheduled run to succeed', async () =>
      ((await api('/orchestration/runs?job=ticking')).runs as { trigger: string; status: string }[]).some(
        (r) => r.trigger === 'schedule' && r.status === 'success',
      ),
    );
  });

  it('runs a job queued from another terminal; its failure shows in the API with the failing task’s logs', { timeout: 120_000 }, async () => {
    const queued = await cli(['jobs', 'run', 'nightly', '--detach', '--json', '--project', dir]);
    expect(queued.code, queued.stderr).toBe(0);
    runId = (JSON.parse(queued.stdout) as { runId: string }).runId;
    await waitFor('the run to fail', async () => ((await api(`/orchestration/runs/${runId}`)).run as { status: string }).status === 'failed');
    const detail = await api(`/orchestration/runs/${runId}`);
    expect((detail.attempts as { task: string; logs: string }[]).find((a) => a.task === 'check:bronze.sales')!.logs).toContain('accepted_values(amount)');
    // Dev's own log lines carry the run and task ids.
    expect(dev.out()).toMatch(new RegExp(`"runId":"${runId}".*"task":"check:bronze.sales"`));
  });

  it('Prometheus sees the failed job, fires TributaryJobFailed, and counts runs, attempts, files and check failures', { timeout: 120_000 }, async () => {
    const firing = await waitFor('TributaryJobFailed to fire', async () => {
      const alerts = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      return alerts.data.alerts.find((a) => a.state === 'firing' && a.labels.alertname === 'TributaryJobFailed');
    });
    expect(firing.labels.job_name).toBe('nightly');
    expect((await query('tributary_runs_total{job_name="nightly",status="failed"}'))[0]!.value[1]).toBe('1');
    expect(Number((await query('tributary_task_attempts_total{asset="source:sales",status="success"}'))[0]!.value[1])).toBe(1);
    expect(Number((await query('tributary_files_ingested_total{source="sales"}'))[0]!.value[1])).toBe(1);
    expect(Number((await query('sum(tributary_check_failures_total{table="bronze.sales"})'))[0]!.value[1])).toBe(1);
  });

  it('stops on Ctrl-C within its grace period, leaving nothing running or half-written', { timeout: 120_000 }, async () => {
    dev.child.kill('SIGINT');
    expect(await dev.exited).toBe(0);
    expect(dev.out()).toContain('"msg":"stopped"');
    const lake = await Lake.open(await loadConfig(dir, { required: true }));
    try {
      const orch = await Orchestration.open(lake);
      for (const r of await orch.lake.catalog.runs.list({ limit: 500 })) {
        for (const t of await orch.queue.tasks(r.runId)) expect(t.status).not.toBe('running');
      }
      for (const t of await lake.tables()) await lake.query(`select count(*) from ${t.name}`);
    } finally {
      await lake.close();
    }
  });
});
