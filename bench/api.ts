// `npm run bench:api`: the API on the online-retail gold tables (full UCI dataset), under load from this process
// (autocannon) against the server in another process: a KPI endpoint and a filtered, paginated table endpoint,
// at a fixed 1,000 requests/s and at maximum throughput.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';
import { runModels } from '../src/models/run.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const byDay = path.resolve(root, '../shared/data/online_retail/by-day');
if (!existsSync(byDay)) throw new Error(`${byDay} is missing: this benchmark serves the full UCI Online Retail dataset`);
const work = mkdtempSync(path.join(tmpdir(), 'trib-bench-api-'));
const project = path.join(work, 'online-retail');
cpSync(path.join(root, 'examples/online-retail'), project, { recursive: true, filter: (src) => !src.endsWith(`${path.sep}lake`) });
process.env.RETAIL_DATA_DIR = byDay;
process.stderr.write('building the online-retail lake…\n');
const lake = await Lake.open(await loadConfig(project));
await runIngest(lake);
await runModels(lake);
await lake.close();

const port = 18000 + Math.floor(Math.random() * 1000);
const server = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/api-server.ts'), project, String(port)], {
  cwd: root,
  env: process.env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  server.stdout!.once('data', () => resolve());
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});

const endpoints: { name: string; path: string; vary?: boolean }[] = [
  { name: 'KPI: revenue by month', path: '/api/v1/tables/gold/retail_revenue_by_month?sort=month' },
  { name: 'table: RFM, filtered + sorted + paged', path: '/api/v1/tables/gold/retail_rfm?segment=Champions&f_score.gte=4&sort=-monetary&limit=50&offset=100' },
  // Every request a different filter value: never a response cache hit, each runs its two queries in DuckDB.
  { name: 'table: RFM, every request a different filter (uncached)', path: '/api/v1/tables/gold/retail_rfm?sort=-monetary&limit=20&monetary.gte=', vary: true },
];
let counter = 0;
const requests = (e: (typeof endpoints)[number]): autocannon.Request[] | undefined =>
  e.vary ? [{ setupRequest: (req) => ({ ...req, path: `${e.path}${(counter++ / 100).toFixed(2)}` }) }] : undefined;
const results = [];
try {
  for (const e of endpoints) {
    const url = `http://127.0.0.1:${port}${e.path}`;
    const vary = requests(e);
    await autocannon({ url, connections: 10, duration: 2, ...(vary ? { requests: vary } : {}) }); // warm-up
    const fixed = await autocannon({ url, connections: 20, duration: 15, overallRate: 1000, ...(vary ? { requests: vary } : {}) });
    const max = await autocannon({ url, connections: 50, duration: 10, ...(vary ? { requests: vary } : {}) });
    if (fixed.non2xx || max.non2xx) throw new Error(`${e.name}: ${fixed.non2xx + max.non2xx} non-2xx responses`);
    results.push({
      endpoint: e.name,
      'at 1000 req/s: achieved': Math.round(fixed.requests.average),
      'p50 ms': fixed.latency.p50,
      'p99 ms': fixed.latency.p99,
      'max throughput req/s': Math.round(max.requests.average),
      'p99 ms at max': max.latency.p99,
    });
  }
} finally {
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
console.table(results);
console.log(JSON.stringify(results, null, 2));
