// `npm run bench:ingest`: Tributary's file ingestion against bare DuckDB doing the same load (read_csv → COPY TO parquet).
// Inputs: the 305 daily files of UCI Online Retail (../shared/data) and generated CSVs of 1 and 10 million rows.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = path.join(root, '.cache', 'bench');
mkdirSync(cache, { recursive: true });

async function generated(rows: number): Promise<string> {
  const file = path.join(cache, `sales_${rows}.csv`);
  if (existsSync(file)) return file;
  process.stderr.write(`generating ${file}…\n`);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`COPY (
      SELECT 500000 + i // 4 AS InvoiceNo, 'SKU' || (i * 7919 % 4000) AS StockCode, 'PRODUCT ' || (i * 7919 % 4000) AS Description,
             1 + i % 24 AS Quantity, TIMESTAMP '2010-12-01 08:00:00' + to_seconds(i * 3) AS InvoiceDate,
             round(0.5 + (i * 31 % 1000) / 100.0, 2) AS UnitPrice, 12000 + i % 4000 AS CustomerID,
             ['United Kingdom', 'France', 'Germany', 'EIRE', 'Spain'][1 + i % 5] AS Country
        FROM range(${rows}) t(i)) TO '${file}' (HEADER)`);
  return file;
}

function measure(mode: 'tributary' | 'duckdb' | 'duckdb-lineage', input: string): { rows: number; seconds: number; maxRssMB: number } {
  const work = mkdtempSync(path.join(tmpdir(), 'trib-bench-'));
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/ingest-worker.ts'), mode, input, work], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const retail = path.resolve(root, '../shared/data/online_retail/by-day');
const cases: { name: string; input: string }[] = [];
if (existsSync(retail)) cases.push({ name: 'Online Retail, 305 daily files', input: `${retail}/*.csv` });
else process.stderr.write(`skipping the Online Retail case: ${retail} is missing\n`);
cases.push({ name: 'generated CSV, 1M rows', input: await generated(1_000_000) });
cases.push({ name: 'generated CSV, 10M rows', input: await generated(10_000_000) });
// `npm run bench:ingest -- --large`: also a single file over 1 GB.
if (process.argv.includes('--large')) cases.push({ name: 'generated CSV, 16M rows (1.07 GB)', input: await generated(16_000_000) });

const results = [];
for (const c of cases) {
  const bytes = c.input.includes('*') ? Number(execFileSync('bash', ['-c', `cat ${c.input} | wc -c`], { encoding: 'utf8' })) : statSync(c.input).size;
  process.stderr.write(`${c.name}: bare DuckDB…`);
  const floor = measure('duckdb', c.input);
  process.stderr.write(` ${floor.seconds.toFixed(2)} s; with lineage columns…`);
  const lineage = measure('duckdb-lineage', c.input);
  process.stderr.write(` ${lineage.seconds.toFixed(2)} s; Tributary…`);
  const ours = measure('tributary', c.input);
  process.stderr.write(` ${ours.seconds.toFixed(2)} s\n`);
  if (ours.rows !== floor.rows) throw new Error(`${c.name}: Tributary ingested ${ours.rows} rows, DuckDB ${floor.rows}`);
  results.push({
    case: c.name,
    rows: ours.rows,
    inputMB: +(bytes / 1048576).toFixed(1),
    duckdbSeconds: +floor.seconds.toFixed(2),
    tributarySeconds: +ours.seconds.toFixed(2),
    ratio: +(ours.seconds / floor.seconds).toFixed(2),
    duckdbLineageSeconds: +lineage.seconds.toFixed(2),
    ratioSameOutput: +(ours.seconds / lineage.seconds).toFixed(2),
    tributaryRowsPerSecond: Math.round(ours.rows / ours.seconds),
    duckdbPeakRssMB: Math.round(floor.maxRssMB),
    tributaryPeakRssMB: Math.round(ours.maxRssMB),
  });
}
console.table(results);
console.log(JSON.stringify(results, null, 2));
