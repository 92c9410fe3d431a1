import { Command } from 'commander';
import { emit, withLake } from '../context.js';
import { renderTable } from '../output.js';
import { describeChecks } from './models.js';
import { nonNegativeInt } from '../options.js';

export function runsCommand(): Command {
  const runs = new Command('runs').description('history of runs recorded in the catalog');
  runs
    .command('ls')
    .description('list recent runs, newest first')
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { limit: string }, cmd: Command) => {
      const list = await withLake(cmd, (l) => l.catalog.listRuns(nonNegativeInt(opts.limit, '--limit')));
      emit(cmd, list, () =>
        renderTable(
          ['run', 'kind', 'status', 'started_at', 'seconds', 'error'],
          list.map((r) => ({ run: r.runId, kind: r.kind, status: r.status, started_at: r.startedAt, seconds: r.finishedAt ? ((r.finishedAt.getTime() - r.startedAt.getTime()) / 1000).toFixed(1) : '', error: r.error ?? '' })),
        ),
      );
    });
  runs
    .command('show')
    .description('one run in full: each model with status, rows in/out, snapshot and error, and every check result')
    .argument('<run>', 'run id (see `tributary runs ls`)')
    .action(async (runId: string, _opts: unknown, cmd: Command) => {
      const detail = await withLake(cmd, async (l) => ({
        ...(await l.catalog.getRun(runId)),
        models: await l.catalog.runLog.modelRuns(runId),
        checks: await l.catalog.runLog.checkResults(runId),
      }));
      emit(cmd, detail, () =>
        [
          `run ${detail.runId} (${detail.kind}): ${detail.status}, started ${detail.startedAt.toISOString()}${detail.error ? `, error: ${detail.error}` : ''}`,
          ...(detail.models.length
            ? [renderTable(
                ['model', 'status', 'mode', 'rows_in', 'rows_out', 'snapshot', 'seconds', 'error'],
                detail.models.map((m) => ({
                  model: m.model, status: m.status, mode: m.mode ?? '', rows_in: m.rowsIn ?? '', rows_out: m.rowsOut ?? '', snapshot: m.snapshotId ?? '',
                  seconds: m.finishedAt ? ((m.finishedAt.getTime() - m.startedAt.getTime()) / 1000).toFixed(2) : '', error: m.error ?? '',
                })),
                100,
              )]
            : []),
          ...describeChecks(detail.checks, true),
        ].join('\n'),
      );
    });
  return runs;
}
