// `npm run bench:sql`: the `sql` source reading a generated PostgreSQL table (1M and 10M rows) in full, and a merge
// after 1% of the rows changed, against the floor: COPY (SELECT …) TO STDOUT into a file, read by bare DuckDB into
// the same Parquet. The tables live in the database `tributary_bench` (created, and kept between runs) of
// $TRIBUTARY_BENCH_PG (default postgres://postgres@127.0.0.1:5432).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const server = process.env.TRIBUTARY_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const url = `${server}/tributary_bench`;

async function prepare(rows: number): Promise<string> {
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  if ((await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'tributary_bench'`)).rowCount === 0) await admin.query('CREATE DATABASE tributary_bench');
  await admin.end();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const table = `sales_${rows}`;
  const [has] = (await client.query(`SELECT to_regclass($1) AS t`, [table])).rows;
  if (!has.t) {
    process.stderr.write(`generating ${table} (${rows} rows)…\n`);
    await client.query(
      `CREATE TABLE ${table} (id bigint PRIMARY KEY, customer_id integer, amount numeric(12,2), created_at timestamptz, updated_at timestamptz, note text)`,
    );
    await client.query(
      `INSERT INTO ${table} SELECT i, i % 40000, round((i * 31 % 100000) / 100.0, 2), TIMESTAMPTZ '2024-01-01' + i * INTERVAL '1 second',
              TIMESTAMPTZ '2024-01-01' + i * INTERVAL '1 second', 'order ' || i FROM generate_series(1, ${rows}) AS i`,
    );
    await client.query(`CREATE INDEX ON ${table} (updated_at, id)`);
    await client.query(`VACUUM ANALYZE ${table}`);
  }
  await client.end();
  return table;
}

function measure(mode: string, table: string, work: string): { rows: number; seconds: number; maxRssMB: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/sql-worker.ts'), mode, url, table, work], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const results = [];
for (const rows of [1_000_000, 10_000_000]) {
  const table = await prepare(rows);
  const floorDir = mkdtempSync(path.join(tmpdir(), 'trib-bench-sql-'));
  const lakeDir = mkdtempSync(path.join(tmpdir(), 'trib-bench-sql-'));
  const fullDir = mkdtempSync(path.join(tmpdir(), 'trib-bench-sql-'));
  try {
    process.stderr.write(`${table}: floor…`);
    const floor = measure('floor', table, floorDir);
    process.stderr.write(` ${floor.seconds.toFixed(2)} s; sql source, replace…`);
    const full = measure('full', table, fullDir);
    process.stderr.write(` ${full.seconds.toFixed(2)} s; merge, first run…`);
    const first = measure('merge', table, lakeDir);
    // 1% of the rows change (a new amount, a later updated_at); the merge reads those only and rewrites the table.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`UPDATE ${table} SET amount = amount + 1, updated_at = now() WHERE id % 100 = 0`);
    await client.end();
    process.stderr.write(` ${first.seconds.toFixed(2)} s; merge after 1% changed…`);
    const merge = measure('merge', table, lakeDir);
    process.stderr.write(` ${merge.seconds.toFixed(2)} s\n`);
    if (full.rows !== floor.rows) throw new Error(`${table}: the source read ${full.rows} rows, the floor ${floor.rows}`);
    results.push({
      table,
      rows,
      floorSeconds: +floor.seconds.toFixed(2),
      fullSeconds: +full.seconds.toFixed(2),
      ratio: +(full.seconds / floor.seconds).toFixed(2),
      fullRowsPerSecond: Math.round(full.rows / full.seconds),
      floorPeakRssMB: Math.round(floor.maxRssMB),
      fullPeakRssMB: Math.round(full.maxRssMB),
      mergeChangedRows: merge.rows,
      mergeSeconds: +merge.seconds.toFixed(2),
      mergePeakRssMB: Math.round(merge.maxRssMB),
    });
  } finally {
    rmSync(floorDir, { recursive: true, force: true });
    rmSync(lakeDir, { recursive: true, force: true });
    rmSync(fullDir, { recursive: true, force: true });
  }
}
console.table(results);
console.log(JSON.stringify(results, null, 2));
