import { TributaryError } from '../../errors.js';
import { syncStore } from '../../store/postgres-sync.js';
import type { AssetKindHandler } from './kind.js';

/** `sync:<table>`: a gold table upserted into the operational store. */
export const syncAssets: AssetKindHandler = {
  kind: 'sync',
  declare: ({ config }) => Object.keys(config.store?.tables ?? {}).map((table) => ({ key: `sync:${table}`, writes: [], reads: [table] })),
  async execute(lake, table, { logger }) {
    if (!lake.config.store) throw new TributaryError('CONFIG_INVALID', 'no store is configured');
    const [report] = await syncStore(lake, lake.config.store, [table]);
    logger.info({ ...report }, report?.skipped ? `${table}: the store already holds snapshot ${report.snapshot}` : `synced ${table}`);
    return { rowsIn: report?.rowsInSnapshot ?? 0, rowsOut: (report?.rowsUpserted ?? 0) + (report?.rowsDeleted ?? 0) };
  },
};
