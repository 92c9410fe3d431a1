// One measured build of the online-retail models, in its own process (peak RSS is its own). Prints one JSON line.
//   tributary <project>            runModels --full-refresh, with the example's checks
//   tributary-nochecks <project>   the same without declared checks (a merge model still checks its unique key)
//   duckdb <project> <out>         the floor: the same model SQL as one bare DuckDB script over the same bronze files
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { runModels } from '../src/models/run.js';

const [mode, project, out] = process.argv.slice(2) as [string, string, string | undefined];
const started = process.hrtime.bigint();
let rows = 0;
if (mode === 'duckdb') {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`CREATE SCHEMA bronze; CREATE SCHEMA silver; CREATE SCHEMA gold`);
  await db.run(
    `CREATE VIEW bronze.online_retail AS SELECT * FROM read_parquet('${project}/lake/bronze/online_retail/data/**/*.parquet', union_by_name = true)`,
  );
  const models = (layer: string) =>
    readdirSync(path.join(project, 'models', layer))
      .filter((f) => f.endsWith('.sql'))
      .sort();
  for (const layer of ['silver', 'gold']) {
    for (const file of models(layer)) {
      const name = file.slice(0, -4);
      const sql = readFileSync(path.join(project, 'models', layer, file), 'utf8')
        .trim()
        .replace(/;$/, '');
      const target = `${out}/${layer}.${name}.parquet`;
      const stats = (await db.runAndReadAll(`COPY (${sql}) TO '${target}' (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true)`)).getRowObjectsJS();
      rows += Number(stats[0]!.count);
      await db.run(`CREATE VIEW ${layer}.${name} AS SELECT * FROM read_parquet('${target}')`);
    }
  }
} else {
  const config = await loadConfig(project);
  if (mode === 'tributary-nochecks') config.checks = {};
  const lake = await Lake.open(config);
  const report = await runModels(lake, { fullRefresh: true });
  if (report.status !== 'success') throw new Error(JSON.stringify(report.models.map((m) => m.error)));
  rows = report.models.reduce((n, m) => n + (m.rowsOut ?? 0), 0);
  await lake.close();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ mode, rows, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
