import type { CatalogDriver } from '../driver.js';

/** Counts the metrics export reads at each scrape: files ingested and rejected rows per source, quarantined files, failing checks. */
export async function ingestionStatistics(driver: CatalogDriver): Promise<{
  ingested: { source: string; files: number; rejected: number }[];
  quarantined: { source: string; files: number }[];
  failingChecks: { table: string; check: string; count: number }[];
}> {
  return driver.read(async (s) => ({
    ingested: (await s.query(`SELECT source, count(*) AS files, sum(rejected_rows) AS rejected FROM ingested_files GROUP BY source`)).map((r) => ({
      source: String(r.source),
      files: Number(r.files),
      rejected: Number(r.rejected ?? 0),
    })),
    quarantined: (await s.query(`SELECT source, count(*) AS files FROM quarantine GROUP BY source`)).map((r) => ({
      source: String(r.source),
      files: Number(r.files),
    })),
    failingChecks: (
      await s.query(`SELECT table_name, check_name, count(*) AS n FROM check_results WHERE status <> 'pass' GROUP BY table_name, check_name`)
    ).map((r) => ({
      table: String(r.table_name),
      check: String(r.check_name),
      count: Number(r.n),
    })),
  }));
}
