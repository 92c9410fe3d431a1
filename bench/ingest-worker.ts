// One measured load, in its own process so that peak RSS belongs to it alone. Prints one JSON line.
import { DuckDBInstance } from '@duckdb/node-api';
import { resolveConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';

const [mode, input, workDir] = process.argv.slice(2) as ['tributary' | 'duckdb' | 'duckdb-lineage', string, string];
const started = process.hrtime.bigint();
let rows = 0;
if (mode !== 'tributary') {
  // The floor: bare DuckDB reading the same CSV files and writing one zstd Parquet file; with `duckdb-lineage` it
  // also writes the five lineage columns every bronze row carries (constants per file), i.e. the same output.
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const select =
    mode === 'duckdb'
      ? `SELECT * FROM read_csv('${input}')`
      : `SELECT * EXCLUDE (filename), now() AS _ingested_at, 'bench' AS _source, filename AS _source_file, '${'0'.repeat(64)}' AS _file_hash, 'b1' AS _batch_id FROM read_csv('${input}', filename = true)`;
  const reader = await conn.runAndReadAll(`COPY (${select}) TO '${workDir}/out.parquet' (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true)`);
  rows = Number(reader.getRowObjectsJS()[0]!.count);
} else {
  const config = resolveConfig(
    { lake: { path: `${workDir}/lake` }, sources: { bench: { kind: 'files', glob: input, into: 'bronze.bench' } } },
    workDir,
    undefined,
  );
  const lake = await Lake.open(config);
  const report = await runIngest(lake);
  rows = report.sources[0]!.rows;
  await lake.close();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ mode, rows, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
