// One measured load of a PostgreSQL table, in its own process so that peak RSS belongs to it alone. Prints one JSON line.
//   floor:  COPY (SELECT …) TO STDOUT streamed to a file, then bare DuckDB writing the same zstd Parquet;
//   full:   the `sql` source, disposition replace, on a fresh lake;
//   merge:  the `sql` source, merge with a cursor, run on a lake (workDir) that already holds the table.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { resolveConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';

const [mode, url, table, workDir] = process.argv.slice(2) as ['floor' | 'full' | 'merge' | 'merge-setup', string, string, string];
const started = process.hrtime.bigint();
let rows = 0;
if (mode === 'floor') {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`SET TimeZone = 'UTC'`);
  const csv = `${workDir}/rows.csv`;
  await pipeline(client.query(copyTo(`COPY (SELECT * FROM ${table}) TO STDOUT WITH (FORMAT csv)`)), createWriteStream(csv));
  await client.end();
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const columns = `{'id': 'BIGINT', 'customer_id': 'INTEGER', 'amount': 'DECIMAL(12,2)', 'created_at': 'TIMESTAMPTZ', 'updated_at': 'TIMESTAMPTZ', 'note': 'VARCHAR'}`;
  const reader = await conn.runAndReadAll(
    `COPY (SELECT * FROM read_csv('${csv}', columns = ${columns}, header = false, auto_detect = false)) TO '${workDir}/out.parquet' (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true)`,
  );
  rows = Number(reader.getRowObjectsJS()[0]!.count);
} else {
  const source =
    mode === 'full'
      ? { kind: 'sql' as const, url, table, into: 'bronze.bench' }
      : { kind: 'sql' as const, url, table, into: 'bronze.bench', disposition: 'merge' as const, cursor: { column: 'updated_at', tieBreaker: 'id' } };
  const lake = await Lake.open(resolveConfig({ lake: { path: `${workDir}/lake` }, sources: { bench: source } }, workDir, undefined));
  const report = await runIngest(lake);
  rows = report.sources[0]!.rows;
  await lake.close();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ mode, rows, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
