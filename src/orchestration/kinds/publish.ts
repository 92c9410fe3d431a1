import { publishTable } from '../../publish/publish.js';
import type { AssetKindHandler } from './kind.js';

/** `publish:<name>`: a lake table's new rows sent to a topic, after the table's producer (and its checks). */
export const publishAssets: AssetKindHandler = {
  kind: 'publish',
  declare: ({ config }) => Object.entries(config.publish).map(([name, p]) => ({ key: `publish:${name}`, writes: [], reads: [p.table] })),
  async execute(lake, name, { logger, signal }) {
    const report = await publishTable(lake, name, { signal });
    logger.info({ ...report }, `${report.table} → ${report.topic}: ${report.sent} record(s) (${report.selection})`);
    return { rowsOut: report.sent };
  },
  async isFresh(lake, _engine, name) {
    const publication = lake.config.publish[name];
    if (!publication || !(await lake.catalog.getTable(publication.table))) return undefined;
    const current = await lake.catalog.resolveSnapshot(publication.table);
    const state = (await lake.catalog.sourceStates.get(`publish:${name}`))?.state as { snapshot?: number; committedAt?: string } | undefined;
    return current && state?.snapshot === current.snapshot.snapshotId && state.committedAt === current.snapshot.committedAt.toISOString()
      ? `snapshot ${current.snapshot.snapshotId} of ${publication.table} is published`
      : undefined;
  },
  describe: (summary) => `${summary.rowsOut ?? 0} record(s) sent`,
};
