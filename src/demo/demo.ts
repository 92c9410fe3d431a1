import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { copyProjectFiles } from '../util/copy-project.js';
import { fileURLToPath } from 'node:url';
import type { CheckResultRecord } from '../catalog/run-log.js';
import { loadConfig } from '../config/load.js';
import { TributaryError } from '../errors.js';
import { runIngest, type IngestRunReport } from '../ingest/run.js';
import { Lake } from '../lake/lake.js';
import { runModels, type ModelRunReport } from '../models/run.js';
import { generateRetailData, type RetailDataManifest } from './retail-data.js';

export const RETAIL_EXAMPLE = fileURLToPath(new URL('../../examples/retail', import.meta.url));

export interface DemoOptions {
  seed?: number;
  rows?: number;
  /** Replace the folder's previous demo (its data and lake). */
  force?: boolean;
  onStep?: (step: string) => void;
}

export interface DemoReport {
  dir: string;
  seconds: number;
  data: RetailDataManifest;
  ingest: IngestRunReport;
  models: ModelRunReport;
  tables: { table: string; rows: number }[];
  quarantined: { path: string; reason: string }[];
  droppedInSilver: { table: string; reason: string; rows: number }[];
  checksNotPassing: CheckResultRecord[];
  kpis: {
    revenue: number;
    purchases: number;
    clients: number;
    topCountries: { pays: string; ca: number }[];
    topProducts: { produit: string; nb_ventes: number; ca: number }[];
    segments: { segment: string; clients: number }[];
  };
}

/** Copies examples/retail into `dir`, generates its data, runs ingestion, models and checks, and summarises. */
export async function runDemo(dir: string, options: DemoOptions = {}): Promise<DemoReport> {
  const started = Date.now();
  const target = path.resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    if (!options.force) {
      throw new TributaryError('CONFLICT', `demo: ${target} is not empty`, {
        hint: 'pass --force to replace the previous demo there, or choose another folder',
      });
    }
    for (const sub of ['lake', 'data', 'models']) rmSync(path.join(target, sub), { recursive: true, force: true });
  }
  options.onStep?.('copying examples/retail');
  copyProjectFiles(RETAIL_EXAMPLE, target);
  options.onStep?.('generating data');
  const data = generateRetailData(path.join(target, 'data'), {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.rows !== undefined ? { rows: options.rows } : {}),
  });

  const lake = await Lake.open(await loadConfig(target, { required: true }));
  try {
    options.onStep?.('ingesting');
    const ingest = await runIngest(lake);
    options.onStep?.('running models and checks');
    const models = await runModels(lake);
    options.onStep?.('summarising');
    return { dir: target, seconds: (Date.now() - started) / 1000, data, ingest, models, ...(await summarise(lake, ingest, models)) };
  } finally {
    await lake.close();
  }
}

async function summarise(lake: Lake, ingest: IngestRunReport, models: ModelRunReport) {
  const q = async <T>(sql: string) =>
    (await lake.query(sql)).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))) as T[];
  const tables = (await lake.tables()).map((t) => ({ table: t.name, rows: t.rowCount }));
  const built = new Set(tables.map((t) => t.table));
  const dropped = [];
  for (const t of ['silver.clients_rejected', 'silver.achats_rejected']) {
    if (built.has(t))
      dropped.push(
        ...(await q<{ table: string; reason: string; rows: number }>(
          `SELECT '${t}' AS table, reject_reason AS reason, count(*) AS rows FROM ${t} GROUP BY ALL ORDER BY rows DESC`,
        )),
      );
  }
  const kpis = built.has('gold.kpi_top_clients')
    ? {
        ...(
          await q<{ revenue: number; purchases: number; clients: number }>(
            'SELECT sum(montant) AS revenue, count(*) AS purchases, count(DISTINCT id_client) AS clients FROM gold.fact_ventes',
          )
        )[0]!,
        topCountries: await q<{ pays: string; ca: number }>('SELECT pays, round(ca, 2) AS ca FROM gold.kpi_ca_par_pays ORDER BY ca DESC LIMIT 3'),
        topProducts: await q<{ produit: string; nb_ventes: number; ca: number }>(
          'SELECT produit, nb_ventes, round(ca, 2) AS ca FROM gold.kpi_volume_par_produit ORDER BY ca DESC LIMIT 3',
        ),
        segments: await q<{ segment: string; clients: number }>('SELECT segment, count(*) AS clients FROM gold.dim_clients GROUP BY ALL ORDER BY clients DESC'),
      }
    : { revenue: 0, purchases: 0, clients: 0, topCountries: [], topProducts: [], segments: [] };
  return {
    tables,
    quarantined: ingest.sources.flatMap((s) => s.quarantined.map((e) => ({ path: e.path, reason: e.reason }))),
    droppedInSilver: dropped,
    checksNotPassing: [...models.inputChecks, ...models.models.flatMap((m) => m.checks)].filter((c) => c.status !== 'pass'),
    kpis,
  };
}
