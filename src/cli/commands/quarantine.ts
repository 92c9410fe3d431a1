import { Command } from 'commander';
import { retryQuarantined } from '../../ingest/run.js';
import { emit, withLake } from '../context.js';
import { renderTable } from '../output.js';
import { nonNegativeInt } from '../options.js';

export function quarantineCommand(): Command {
  const q = new Command('quarantine').description('files set aside by ingestion, with the reason (ls, show, retry)');

  q.command('ls')
    .description('list open quarantine entries (--all includes resolved ones)')
    .option('--all', 'include resolved and superseded entries')
    .option('--source <name>', 'only this source')
    .action(async (opts: { all?: boolean; source?: string }, cmd: Command) => {
      const entries = await withLake(cmd, (l) => l.catalog.quarantine.list({ all: Boolean(opts.all), ...(opts.source ? { source: opts.source } : {}) }));
      emit(cmd, entries, () =>
        entries.length === 0
          ? 'quarantine is empty'
          : renderTable(
              ['id', 'status', 'source', 'path', 'reason_code', 'reason', 'quarantined_at'],
              entries.map((e) => ({
                id: e.id,
                status: e.status,
                source: e.source,
                path: e.path,
                reason_code: e.reasonCode,
                reason: e.reason,
                quarantined_at: e.quarantinedAt,
              })),
              80,
            ),
      );
    });

  q.command('show')
    .description('print one entry in full, with its details and where the preserved copy is')
    .argument('<id>', 'quarantine entry id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const entry = await withLake(cmd, async (l) => {
        const e = await l.catalog.quarantine.get(nonNegativeInt(id, 'id'));
        return { ...e, storedCopy: e.storedPath ? l.storage.readPath(e.storedPath) : undefined };
      });
      emit(cmd, entry, () =>
        Object.entries(entry)
          .map(
            ([k, v]) =>
              `${k}: ${typeof v === 'object' && v !== null && !(v instanceof Date) ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : String(v ?? '')}`,
          )
          .join('\n'),
      );
    });

  q.command('retry')
    .description("ingest a quarantined file again from its preserved copy, with the source's current settings")
    .argument('<id>', 'quarantine entry id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const report = await withLake(cmd, (l) => retryQuarantined(l, nonNegativeInt(id, 'id')));
      const source = report.sources[0]!;
      const ok = source.ingested.length > 0 || source.unchanged > 0;
      emit(cmd, { id: Number(id), resolved: ok, ...report }, () =>
        source.ingested.length > 0
          ? `#${id} ingested: ${source.rows} row(s) into ${source.table}${source.rejectedRows ? `, ${source.rejectedRows} rejected` : ''}; entry resolved`
          : ok
            ? `#${id}: this content was already ingested; entry resolved`
            : `#${id} is still refused: ${source.quarantined[0]?.reason ?? `see \`tributary quarantine show ${id}\``}`,
      );
      if (!ok) process.exitCode = 1;
    });

  return q;
}
