import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { freePort, startCli, tempDir } from './support/helpers.js';
import { items, json, startTestApi } from './support/http-api.js';

// An HTTP source as a long-lived poller, in its own process: `tributary ingest <source> --every`, killed with -9 in
// the middle of polls and started again, and a second-level schedule in `tributary dev`.
const api = await startTestApi();

const start = (args: readonly string[]) => startCli(args);

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function project(config: string): string {
  const dir = tempDir('trib-httppoll-');
  writeFileSync(path.join(dir, 'tributary.config.mjs'), `export default ${config};\n`);
  return dir;
}

async function idsIn(dir: string, table: string): Promise<number[]> {
  const lake = await Lake.open(await loadConfig(dir, { required: true }));
  try {
    return (await lake.query(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => Number(r.id));
  } finally {
    await lake.close();
  }
}

describe('http source: polling', () => {
  it('ingest --every polls at its interval, reports a failed poll and goes on, and stops on SIGTERM', { timeout: 90_000 }, async () => {
    let served = 0;
    api.route('/ticks', (_req, res, { query }) => {
      served++;
      if (served === 2) return json(res, { error: 'maintenance' }, 500);
      const since = Number(query.get('since') ?? 0);
      json(res, { data: items(served).filter((i) => i.id > since) });
    });
    const dir = project(
      `{ sources: { ticks: { kind: 'http', baseUrl: '${api.url}', path: '/ticks', into: 'bronze.ticks', retry: { attempts: 0 }, incremental: { cursor: 'id', param: 'since' } } } }`,
    );
    const poller = start(['ingest', 'ticks', '--every', '300ms', '--project', dir]);
    await waitFor('four polls', () => (poller.out().match(/poll \d+/g) ?? []).length >= 4);
    poller.child.kill('SIGTERM');
    expect(await poller.exited).toBe(0);
    const out = poller.out();
    expect(out).toMatch(/poll 1: 1 row\(s\) from ticks in \d+ ms/);
    expect(out).toMatch(
      /poll 2 failed: sources\.ticks: GET http:\/\/127\.0\.0\.1:\d+\/ticks\?since=1 answered 500: \{"error":"maintenance"\} \(1 attempt\(s\)\)/,
    );
    expect(out).toMatch(/poll 3: 2 row\(s\) from ticks/);
    expect(out).toMatch(/stopped after \d+ poll\(s\)/);
    const polls = Number(/stopped after (\d+) poll/.exec(out)![1]);
    expect(await idsIn(dir, 'bronze.ticks')).toEqual(Array.from({ length: polls }, (_, i) => i + 1));
  });

  it('a poller killed with -9 at any moment, then started again, lands every record exactly once', { timeout: 180_000 }, async () => {
    // Records appear as time passes; pages of 3, each answered slowly, so that kills land mid-run.
    const started = Date.now();
    api.route('/feed', async (_req, res, { query }) => {
      const since = Number(query.get('since') ?? 0);
      const offset = Number(query.get('offset') ?? 0);
      const available = items(Math.min(200, Math.floor((Date.now() - started) / 40)));
      await new Promise((r) => setTimeout(r, 30));
      json(res, { data: available.filter((i) => i.id > since).slice(offset, offset + 3) });
    });
    const dir = project(
      `{ sources: { feed: { kind: 'http', baseUrl: '${api.url}', path: '/feed', into: 'bronze.feed', paginate: { type: 'offset', limit: 3 }, incremental: { cursor: 'id', param: 'since' } } } }`,
    );
    let kills = 0;
    for (let trial = 0; trial < 8; trial++) {
      const poller = start(['ingest', 'feed', '--every', '100ms', '--project', dir]);
      await waitFor('the poller to start polling', () => /poll \d+/.test(poller.out()), 30_000);
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 400)));
      poller.child.kill('SIGKILL');
      await poller.exited;
      kills++;
    }
    expect(kills).toBe(8);
    // Once every record exists, a last poll takes what the kills left.
    await waitFor('every record to exist', () => Date.now() - started > 200 * 40 + 500, 60_000);
    const last = start(['ingest', 'feed', '--project', dir]);
    expect(await last.exited, last.out()).toBe(0);
    expect(await idsIn(dir, 'bronze.feed')).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('tributary dev runs a job on a second-level schedule: each poll one commit', { timeout: 90_000 }, async () => {
    let n = 0;
    api.route('/beat', (_req, res) => json(res, { data: [{ id: ++n }] }));
    const port = await freePort();
    const dir = project(`{
      sources: { beat: { kind: 'http', baseUrl: '${api.url}', path: '/beat', into: 'bronze.beat' } },
      jobs: { poll: { select: ['source:beat'], schedule: '*/2 * * * * *' } },
    }`);
    const dev = start(['dev', '--port', String(port), '--project', dir]);
    const runs = async () =>
      ((await (await fetch(`http://127.0.0.1:${port}/api/v1/orchestration/runs?job=poll`)).json()) as { runs: { status: string }[] }).runs.filter(
        (r) => r.status === 'success',
      ).length;
    await waitFor('three scheduled polls', async () => (await runs().catch(() => 0)) >= 3);
    dev.child.kill('SIGINT');
    expect(await dev.exited).toBe(0);
    const lake = await Lake.open(await loadConfig(dir, { required: true }));
    try {
      const history = await lake.history('bronze.beat');
      const ids = (await lake.query('SELECT id FROM bronze.beat ORDER BY id')).rows.map((r) => Number(r.id));
      expect(ids.length).toBeGreaterThanOrEqual(3);
      expect(history.length).toBe(ids.length); // one snapshot per poll
    } finally {
      await lake.close();
    }
  });
});
