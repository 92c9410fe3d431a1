import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runIngest } from '../src/ingest/run.js';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { produceGenerated } from '../src/produce/produce.js';
import { runStream } from '../src/streams/worker.js';
import { Lake } from '../src/lake/lake.js';
import { runModels } from '../src/models/run.js';
import { copyProjectFiles } from '../src/util/copy-project.js';
import { tempDir } from './support/helpers.js';

// The peer reader: Apache Spark 4.0 with Apache Iceberg's runtime (both from Maven Central), a path-based catalog at
// the lake root, reads the online-retail example's tables through the metadata Tributary publishes — and gets the
// counts and sums `tributary sql` gets: after the first build, after a full refresh, a compaction and a vacuum (a
// folder read would double-count there), at an older snapshot (VERSION AS OF), and through a partition filter.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { sparkSql } = (await import(path.join(ROOT, 'scripts/spark-iceberg.mjs'))) as {
  sparkSql: (lake: string, statements: string[]) => Promise<({ rows: Record<string, unknown>[] } | { error: string })[]>;
};

const TABLES = ['bronze.online_retail', 'silver.retail_sales', 'gold.retail_revenue_by_country', 'gold.retail_revenue_by_month', 'gold.retail_rfm'];
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|FLOAT|DOUBLE|DECIMAL.*|HUGEINT)$/;

let lake: Lake;
afterAll(async () => lake?.close());

/** Per table: its row count and, for each numeric column, its sum rounded to 2 places — as DuckDB and as SQL text for Spark. */
async function measures(table: string) {
  const described = (await lake.query(`DESCRIBE SELECT * FROM ${table}`)).rows;
  const columns = described.filter((c) => NUMERIC.test(String(c.column_type))).map((c) => String(c.column_name));
  const sums = columns.map((c) => `round(CAST(sum("${c}") AS DOUBLE), 2) AS "s_${c}"`);
  const duck = (await lake.query(`SELECT count(*) AS n${sums.length ? `, ${sums.join(', ')}` : ''} FROM ${table}`)).rows[0]!;
  const sparkSums = columns.map((c) => `round(CAST(sum(\`${c}\`) AS DOUBLE), 2) AS \`s_${c}\``);
  const spark = `SELECT count(*) AS n${sparkSums.length ? `, ${sparkSums.join(', ')}` : ''} FROM lake.${table}`;
  return { duck: Object.fromEntries(Object.entries(duck).map(([k, v]) => [k, Number(v)])), spark };
}

async function compare(label: string, tables = TABLES) {
  const expected = await Promise.all(tables.map(measures));
  const results = await sparkSql(
    lake.config.lakePath,
    expected.map((e) => e.spark),
  );
  for (const [i, table] of tables.entries()) {
    const r = results[i]!;
    expect('error' in r ? r.error : undefined, `${label}: ${table}`).toBeUndefined();
    const got = Object.fromEntries(Object.entries((r as { rows: Record<string, unknown>[] }).rows[0]!).map(([k, v]) => [k, Number(v)]));
    expect(got, `${label}: ${table} through Spark`).toEqual(expected[i]!.duck);
  }
}

describe('Spark reads the lake through Iceberg', () => {
  it('the same counts and sums as Tributary, after rebuilds, compaction and vacuum, at an older snapshot and through a partition filter', {
    timeout: 600_000,
  }, async () => {
    const dir = path.join(tempDir('trib-iceberg-spark-'), 'online-retail');
    copyProjectFiles(path.join(ROOT, 'examples/online-retail'), dir);
    lake = await Lake.open(await loadConfig(dir));
    await runIngest(lake);
    await runModels(lake, {});
    await compare('first build');

    // A full refresh, a compaction of the partitioned bronze table, then a vacuum keeping only the last snapshot.
    const before = (await lake.catalog.getTable('silver.retail_sales'))!.currentSnapshot;
    await runModels(lake, { fullRefresh: true });
    expect((await lake.catalog.getTable('silver.retail_sales'))!.currentSnapshot).toBeGreaterThan(before);
    const older = (await lake.catalog.history('bronze.online_retail')).at(-1)!.snapshotId; // the first one
    const olderRows = (await lake.catalog.resolveSnapshot('bronze.online_retail', { snapshotId: older }))!.files.reduce((n, f) => n + f.rowCount, 0);
    const compacted = await lake.compact('bronze.online_retail');
    await compare('after a full refresh and a compaction');
    const [asOf, filtered] = await sparkSql(lake.config.lakePath, [
      `SELECT count(*) AS n FROM lake.bronze.online_retail VERSION AS OF ${older}`,
      "SELECT count(*) AS n FROM lake.bronze.online_retail WHERE InvoiceDate >= TIMESTAMP '2010-12-02 00:00:00'",
    ]);
    expect(asOf).toEqual({ rows: [{ n: olderRows }] });
    const dec2 = (await lake.query("SELECT count(*) AS n FROM bronze.online_retail WHERE InvoiceDate >= TIMESTAMP '2010-12-02 00:00:00'")).rows[0]!;
    expect(filtered).toEqual({ rows: [{ n: Number(dec2.n) }] });

    await lake.vacuum({ snapshotDays: 0, keepLast: 1, orphanMinutes: 0 });
    await compare('after a vacuum');
    if (compacted.snapshotId !== undefined) {
      const [gone] = await sparkSql(lake.config.lakePath, [`SELECT count(*) AS n FROM lake.bronze.online_retail VERSION AS OF ${older}`]);
      expect(gone).toMatchObject({ error: expect.stringMatching(/Cannot find snapshot with ID/i) });
    }
  });

  it('a stream’s tables mid-run: its open windows as the snapshot holds them, never stale ones', { timeout: 600_000 }, async () => {
    const dir = path.join(tempDir('trib-iceberg-stream-'), 'ventes-live');
    copyProjectFiles(path.join(ROOT, 'examples/ventes-live'), dir);
    const config = await loadConfig(dir);
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    await log.createTopic('ventes-temps-reel', 3);
    const send = (count: number, start: string, seed: number) =>
      produceGenerated(log, 'ventes-temps-reel', { count, rate: 2, pace: false, start: Date.parse(start), seed, countries: ['France', 'Spain'] });
    await lake?.close();
    lake = await Lake.open(config);
    const tables = ['gold.ventes_live_par_pays', 'gold.ventes_5min_glissantes', 'bronze.ventes_live_raw'];
    // Half the events, then the rest: between the two, the on-update table holds open windows that the next batch replaces.
    await send(300, '2026-11-22T09:00:00Z', 8);
    await runStream(config, 'ventes-live', { availableNow: true, lake });
    expect((await lake.query('SELECT count(*) AS n FROM gold.ventes_5min_glissantes WHERE NOT is_final')).rows[0]!.n).toBeGreaterThan(0);
    await compare('mid-run', tables);
    await send(300, '2026-11-22T09:02:30Z', 9);
    await runStream(config, 'ventes-live', { availableNow: true, lake });
    await compare('after the second run', tables);
  });
});
