import { Command } from 'commander';
import { emit, withLake } from '../context.js';
import { renderTable } from '../output.js';
import { positiveInt } from './lake.js';

export function runsCommand(): Command {
  const runs = new Command('runs').description('history of runs recorded in the catalog');
  runs
    .command('ls')
    .description('list recent runs, newest first')
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { limit: string }, cmd: Command) => {
      const list = await withLake(cmd, (l) => l.catalog.listRuns(positiveInt(opts.limit, '--limit')));
      emit(cmd, list, () =>
        renderTable(
          ['run', 'kind', 'status', 'started_at', 'seconds', 'error'],
          list.map((r) => ({ run: r.runId, kind: r.kind, status: r.status, started_at: r.startedAt, seconds: r.finishedAt ? ((r.finishedAt.getTime() - r.startedAt.getTime()) / 1000).toFixed(1) : '', error: r.error ?? '' })),
        ),
      );
    });
  return runs;
}
