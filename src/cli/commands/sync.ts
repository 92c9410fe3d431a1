import { Command } from 'commander';
import { TributaryError } from '../../errors.js';
import { syncStore } from '../../store/postgres-sync.js';
import { emit, withLake } from '../context.js';
import { renderTable } from '../output.js';

export function syncCommand(): Command {
  return new Command('sync')
    .description('upsert gold tables into the operational store (PostgreSQL, `store` in the config): changed rows only')
    .argument('[tables...]', 'tables of store.tables to sync (default all)')
    .action(async (tables: string[], _opts: unknown, cmd: Command) => {
      const reports = await withLake(cmd, (lake) => {
        if (!lake.config.store)
          throw new TributaryError('CONFIG_INVALID', `no store declared in ${lake.config.configFile ?? 'the config'}`, {
            hint: "add store: { url: 'postgres://…', tables: { 'gold.x': { key: 'id' } } }",
          });
        return syncStore(lake, lake.config.store, tables);
      });
      emit(cmd, reports, () =>
        renderTable(
          ['table', 'target', 'snapshot', 'status', 'rows', 'upserted', 'deleted', 'refresh_s'],
          reports.map((r) => ({
            table: r.table,
            target: r.target,
            snapshot: r.snapshot,
            status: r.skipped ? 'up to date' : 'synced',
            rows: r.rowsInSnapshot,
            upserted: r.rowsUpserted,
            deleted: r.rowsDeleted,
            refresh_s: r.refreshSeconds?.toFixed(1) ?? '',
          })),
        ),
      );
    });
}
