import { effectiveSchemas, schemaChanges } from '../../lake/schema-diff.js';
import { createInterface } from 'node:readline';
import { TributaryError } from '../../errors.js';
import { Command } from 'commander';
import { nonNegativeInt } from '../options.js';
import { parseAsOf } from '../../lake/as-of.js';
import { publishAll } from '../../lake/iceberg/projection.js';
import { emit, outputFormat, print, withLake } from '../context.js';
import { formatBytes, renderRows, renderTable, toJson } from '../output.js';

export function lakeCommand(): Command {
  const lake = new Command('lake').description('inspect and maintain lake tables (tables, history, show, compact, publish, rollback, drop, vacuum)');

  lake
    .command('tables')
    .description('list tables with their current snapshot, rows, files and size')
    .action(async (_opts: unknown, cmd: Command) => {
      const tables = await withLake(cmd, (l) => l.tables());
      emit(cmd, tables, () =>
        tables.length === 0
          ? 'no tables yet: run `tributary ingest`'
          : renderTable(
              ['table', 'snapshot', 'rows', 'files', 'size', 'updated', 'partitioned_by'],
              tables.map((t) => ({
                table: t.name,
                snapshot: t.currentSnapshot,
                rows: t.rowCount,
                files: t.fileCount,
                size: formatBytes(t.sizeBytes),
                updated: t.updatedAt,
                partitioned_by: t.partitionSpec ? JSON.parse(t.partitionSpec).column : '',
              })),
            ),
      );
    });

  lake
    .command('history')
    .description('list the snapshots of a table, newest first, with the schema changes each made')
    .argument('<table>', 'layer.table')
    .action(async (table: string, _opts: unknown, cmd: Command) => {
      const snapshots = await withLake(cmd, (l) => l.history(table));
      // Newest first: each snapshot's columns compared with its parent's.
      const columns = effectiveSchemas(snapshots);
      const history = snapshots.map((s) => ({ ...s, schemaChanges: schemaChanges(columns.get(s.parentId), columns.get(s.snapshotId) ?? s.schema) }));
      emit(cmd, history, () =>
        renderTable(
          ['snapshot', 'committed_at', 'operation', 'rows', 'files', 'size', 'run', 'expired', 'schema'],
          history.map((s) => ({
            snapshot: s.snapshotId,
            committed_at: s.committedAt,
            operation: s.operation,
            rows: s.rowCount,
            files: s.fileCount,
            size: formatBytes(s.sizeBytes),
            run: s.runId ?? '',
            expired: s.expired ? 'yes' : '',
            schema: s.schemaChanges.join(', '),
          })),
        ),
      );
    });

  lake
    .command('show')
    .description('print rows of a table, at its current snapshot or as of an earlier one')
    .argument('<table>', 'layer.table')
    .option('--as-of <snapshot|timestamp>', 'a snapshot id, or a time: the last snapshot committed at or before it')
    .option('--limit <n>', 'rows to print', '20')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (table: string, opts: { asOf?: string; limit: string; format: string }, cmd: Command) => {
      const limit = nonNegativeInt(opts.limit, '--limit');
      const result = await withLake(cmd, (l) => l.show(table, { ...(opts.asOf ? { asOf: parseAsOf(opts.asOf) } : {}), limit }));
      const format = outputFormat(cmd, opts.format);
      if (format === 'json') print(toJson({ table, snapshot: result.snapshot?.snapshotId ?? null, columns: result.columns, rows: result.rows }));
      else print(renderRows(format, result.columns, result.rows));
    });

  lake
    .command('compact')
    .description('merge small files (per partition) into larger ones, as a new snapshot with the same rows')
    .argument('<table>', 'layer.table')
    .action(async (table: string, _opts: unknown, cmd: Command) => {
      const result = await withLake(cmd, (l) => l.compact(table));
      emit(cmd, { table, ...result }, () =>
        result.snapshotId === undefined
          ? `${table}: nothing to compact (${result.filesBefore} file(s), no two small files in one partition)`
          : `${table}: merged ${result.merged} files; ${result.filesBefore} → ${result.filesAfter} files in snapshot ${result.snapshotId}`,
      );
    });

  lake
    .command('publish')
    .description("write tables' Apache Iceberg metadata for their committed snapshots (after each commit it is automatic; this repairs or backfills it)")
    .argument('[tables...]', 'layer.table (default: every table)')
    .action(async (tables: string[], _opts: unknown, cmd: Command) => {
      const results = await withLake(cmd, (l) => publishAll(l, tables.length ? tables : undefined));
      emit(cmd, results, () =>
        results
          .map((r) =>
            'error' in r
              ? `${r.table}: FAILED: ${r.error}`
              : r.version === undefined
                ? `${r.table}: current (${r.snapshots} snapshot(s))`
                : `${r.table}: version ${r.version}, ${r.snapshots} snapshot(s), ${r.manifests} manifest(s) written`,
          )
          .join('\n'),
      );
      if (results.some((r) => 'error' in r)) process.exitCode = 1;
    });

  lake
    .command('rollback')
    .description('roll a table back to an earlier snapshot, as a new snapshot with its rows (history is kept)')
    .argument('<table>', 'layer.table')
    .requiredOption('--to <snapshot>', 'the snapshot id to go back to (see `lake history`)')
    .action(async (table: string, opts: { to: string }, cmd: Command) => {
      const to = nonNegativeInt(opts.to, '--to');
      const result = await withLake(cmd, (l) => l.rollback(table, to));
      emit(
        cmd,
        { table, to, ...result },
        () =>
          `${table}: snapshot ${result.snapshotId} holds the ${result.rowCount} row(s) of snapshot ${to}${result.forgotten ? `; ${result.forgotten} ingested file(s) after it are forgotten and will be ingested again if still there` : ''}`,
      );
    });

  lake
    .command('drop')
    .description('delete a table: its snapshots, its files and the ingestion records of its sources')
    .argument('<table>', 'layer.table')
    .option('--yes', 'do not ask for confirmation')
    .action(async (table: string, opts: { yes?: boolean }, cmd: Command) => {
      const result = await withLake(cmd, async (l) => {
        const info = await l.catalog.requireTable(table);
        if (!opts.yes) {
          const what = `${table} (${info.rowCount} rows, ${info.currentSnapshot} snapshot(s)) and every file of it`;
          if (!process.stdin.isTTY) throw new TributaryError('INVALID_INPUT', `lake drop: this deletes ${what}`, { hint: 'pass --yes to confirm' });
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await new Promise<string>((resolve) => rl.question(`This deletes ${what}. Type the table name to confirm: `, resolve));
          rl.close();
          if (answer.trim() !== table) throw new TributaryError('INVALID_INPUT', `lake drop: not confirmed; ${table} is unchanged`);
        }
        return l.drop(table);
      });
      emit(cmd, { table, ...result }, () => `dropped ${table}: ${result.snapshots} snapshot(s), ${result.files} file(s) deleted`);
    });

  lake
    .command('vacuum')
    .description('expire old snapshots and delete files no retained snapshot references (and orphans of crashed writers)')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .option('--retain-days <days>', 'keep snapshots younger than this (default: lake.retention.snapshotDays, 7)')
    .option('--keep-last <n>', 'always keep this many latest snapshots per table (default 1)')
    .option('--orphan-minutes <m>', 'delete unreferenced files only once older than this (default 60)')
    .action(async (opts: { dryRun?: boolean; retainDays?: string; keepLast?: string; orphanMinutes?: string }, cmd: Command) => {
      const report = await withLake(cmd, (l) =>
        l.vacuum({
          dryRun: Boolean(opts.dryRun),
          ...(opts.retainDays !== undefined ? { snapshotDays: nonNegativeInt(opts.retainDays, '--retain-days') } : {}),
          ...(opts.keepLast !== undefined ? { keepLast: nonNegativeInt(opts.keepLast, '--keep-last') } : {}),
          ...(opts.orphanMinutes !== undefined ? { orphanMinutes: nonNegativeInt(opts.orphanMinutes, '--orphan-minutes') } : {}),
        }),
      );
      emit(cmd, report, () =>
        [
          ...report.tables.map((t) => `${t.table}: expired ${t.expiredSnapshots} snapshot(s) before ${t.keptFrom}, ${t.deletedFiles} file(s)`),
          `${report.dryRun ? 'would delete' : 'deleted'} ${report.deletedFiles} file(s) (${formatBytes(report.deletedBytes)}), of which ${report.orphanFiles} orphan(s)`,
        ].join('\n'),
      );
    });

  return lake;
}
