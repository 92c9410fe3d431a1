// `npm run bench:models`: the online-retail models (examples/online-retail) on the full UCI dataset and on a
// generated 10× copy, against the same SQL run as one bare DuckDB script over the same bronze Parquet files.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const byDay = path.resolve(root, '../shared/data/online_retail/by-day');
if (!existsSync(byDay)) throw new Error(`${byDay} is missing: this benchmark needs the UCI Online Retail daily files`);
const cache = path.join(root, '.cache', 'bench');
mkdirSync(cache, { recursive: true });

/** Ten copies of every line, invoice numbers made distinct per copy (cancellations keep their C prefix). */
async function tenfold(): Promise<string> {
  const dir = path.join(cache, 'online_retail_x10');
  if (existsSync(path.join(dir, 'copy_9.csv'))) return dir;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`generating ${dir}…\n`);
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  for (let copy = 0; copy < 10; copy++) {
    await db.run(`COPY (
        SELECT regexp_replace(InvoiceNo, '^(C?)(.*)$', '\\1\\2-${copy}') AS InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country
        FROM read_csv('${byDay}/*.csv', header = true, all_varchar = true)) TO '${dir}/copy_${copy}.csv' (HEADER)`);
  }
  return dir;
}

async function prepare(dataDir: string): Promise<string> {
  const project = path.join(mkdtempSync(path.join(tmpdir(), 'trib-bench-models-')), 'online-retail');
  cpSync(path.join(root, 'examples/online-retail'), project, { recursive: true, filter: (src) => !src.endsWith(`${path.sep}lake`) });
  process.env.RETAIL_DATA_DIR = dataDir;
  const lake = await Lake.open(await loadConfig(project));
  await runIngest(lake);
  await lake.close();
  return project;
}

function measure(mode: string, project: string): { rows: number; seconds: number; maxRssMB: number } {
  const out = mkdtempSync(path.join(tmpdir(), 'trib-bench-out-'));
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/models-worker.ts'), mode, project, out], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env },
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const results = [];
for (const [name, dataDir] of [
  ['full dataset (541,909 lines)', byDay],
  ['10× copy (5.4M lines)', await tenfold()],
] as const) {
  process.stderr.write(`${name}: ingesting…`);
  const project = await prepare(dataDir);
  const floor = measure('duckdb', project);
  process.stderr.write(` floor ${floor.seconds.toFixed(2)} s;`);
  const bare = measure('tributary-nochecks', project);
  process.stderr.write(` without checks ${bare.seconds.toFixed(2)} s;`);
  const full = measure('tributary', project);
  process.stderr.write(` with checks ${full.seconds.toFixed(2)} s\n`);
  results.push({
    case: name,
    outputRows: full.rows,
    duckdbSeconds: +floor.seconds.toFixed(2),
    tributaryNoChecksSeconds: +bare.seconds.toFixed(2),
    tributarySeconds: +full.seconds.toFixed(2),
    ratioNoChecks: +(bare.seconds / floor.seconds).toFixed(2),
    ratioWithChecks: +(full.seconds / floor.seconds).toFixed(2),
    duckdbPeakRssMB: Math.round(floor.maxRssMB),
    tributaryPeakRssMB: Math.round(full.maxRssMB),
  });
  rmSync(path.dirname(project), { recursive: true, force: true });
}
console.table(results);
console.log(JSON.stringify(results, null, 2));
