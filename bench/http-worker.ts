// One measured load of the benchmark's API, in its own process so that peak RSS belongs to it alone. Prints one JSON line.
//   floor:  the pages fetched one after the other with fetch(), each body a line of a file, then bare DuckDB's
//           read_json unnesting the records into the same zstd Parquet;
//   source: the `http` source (offset/limit pages, record selector `data`, every response kept in the raw table).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { DuckDBInstance } from '@duckdb/node-api';
import { resolveConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { Lake } from '../src/lake/lake.js';

const [mode, baseUrl, workDir] = process.argv.slice(2) as ['floor' | 'source', string, string];
const started = process.hrtime.bigint();
let rows = 0;
if (mode === 'floor') {
  const file = `${workDir}/pages.ndjson`;
  const out = createWriteStream(file);
  for (let offset = 0; ; offset += 1000) {
    const body = await (await fetch(`${baseUrl}/records?offset=${offset}&limit=1000`)).text();
    if (body.startsWith('{"data":[]')) break;
    if (!out.write(`${body}\n`)) await once(out, 'drain');
  }
  await new Promise<void>((resolve) => out.end(resolve));
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const reader = await conn.runAndReadAll(
    `COPY (SELECT r.* FROM (SELECT unnest(data) AS r FROM read_json('${file}', format = 'newline_delimited', maximum_object_size = 268435456))) TO '${workDir}/out.parquet' (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true)`,
  );
  rows = Number(reader.getRowObjectsJS()[0]!.count);
} else {
  const lake = await Lake.open(
    resolveConfig(
      {
        lake: { path: `${workDir}/lake` },
        sources: { bench: { kind: 'http', baseUrl, path: '/records', select: 'data', paginate: { type: 'offset', limit: 1000 }, into: 'bronze.bench' } },
      },
      workDir,
      undefined,
    ),
  );
  const report = await runIngest(lake);
  rows = report.sources[0]!.rows;
  await lake.close();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ mode, rows, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
