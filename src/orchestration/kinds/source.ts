import { ingestDeclared } from '../../ingest/run.js';
import { sourceConnector, sourceWrites } from '../../sources/registry.js';
import type { AssetKindHandler } from './kind.js';

/** `source:<name>`: a declared source ingested into its table (any source kind, through its connector). */
export const sourceAssets: AssetKindHandler = {
  kind: 'source',
  declare: ({ config, models }) =>
    Object.entries(config.sources).map(([name, source]) => ({
      key: `source:${name}`,
      writes: sourceWrites(source),
      reads: models.sourceReads.get(name) ?? [],
    })),
  async execute(lake, name, { runId, partition, logger }) {
    const report = await ingestDeclared(lake, name, { runId, ...(partition ? { partition } : {}) });
    logger.info(
      {
        discovered: report.discovered,
        ingested: report.ingested.length,
        unchanged: report.unchanged,
        rows: report.rows,
        rejectedRows: report.rejectedRows,
        quarantined: report.quarantined.length,
      },
      `ingested ${report.ingested.length} ${report.unit}(s) into ${report.table}`,
    );
    for (const q of report.quarantined) logger.warn({ path: q.path, reason: q.reasonCode }, `quarantined ${q.path}: ${q.reason}`);
    return {
      rowsOut: report.rows,
      filesIngested: report.ingested.length,
      filesQuarantined: report.quarantined.length,
      rejectedRows: report.rejectedRows,
      unchanged: report.unchanged,
      unit: report.unit,
    };
  },
  async isFresh(lake, _engine, name, partition) {
    const config = lake.config.sources[name];
    if (!config) return undefined; // the task reports the error
    const plan = await sourceConnector(config.kind).plan({ lake, name, ...(partition ? { partition } : {}) }, config);
    return plan.upToDate ? [plan.summary, ...plan.warnings].join('; ') : undefined;
  },
  describe(s) {
    const parts = [`${s.filesIngested ?? 0} ${typeof s.unit === 'string' ? s.unit : 'file'}(s) ingested`];
    if (s.unchanged) parts.push(`${String(s.unchanged)} unchanged`);
    if (s.filesQuarantined) parts.push(`${s.filesQuarantined} quarantined`);
    if (s.rejectedRows) parts.push(`${s.rejectedRows} row(s) rejected`);
    return parts.join(', ');
  },
};
