import { Command } from 'commander';
import { emit, withLake } from '../context.js';
import { renderTable } from '../output.js';
import { describeChecks } from './models.js';
import { nonNegativeInt } from '../options.js';
import { createLogger } from '../../util/logger.js';
import { runToEnd, seconds, withOrchestration } from './jobs.js';

export function runsCommand(): Command {
  const runs = new Command('runs').description('history of runs recorded in the catalog: ingestion, models, checks, streams and jobs');
  runs
    .command('ls')
    .description('list recent runs, newest first')
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { limit: string }, cmd: Command) => {
      const list = await withLake(cmd, async (l) => {
        await l.catalog.runs.reapAbandoned(); // runs whose process was killed are closed as abandoned, not left running
        return l.catalog.runs.list({ limit: nonNegativeInt(opts.limit, '--limit') });
      });
      emit(cmd, list, () =>
        renderTable(
          ['run', 'kind', 'trigger', 'partition', 'status', 'started_at', 'seconds', 'error'],
          list.map((r) => ({
            run: r.runId,
            kind: r.job ? `job ${r.job}` : r.kind,
            trigger: r.trigger ?? '',
            partition: r.partition ?? '',
            status: r.status,
            started_at: r.startedAt,
            seconds: seconds(r.startedAt, r.finishedAt),
            error: r.error ?? '',
          })),
        ),
      );
    });
  runs
    .command('show')
    .description('one run in full: its tasks and attempts (jobs), each model with rows and snapshot, every check result')
    .argument('<run>', 'run id (see `tributary runs ls`)')
    .option('--logs', "print every attempt's log lines (by default, those of failed attempts)")
    .action(async (runId: string, opts: { logs?: boolean }, cmd: Command) => {
      const detail = await withOrchestration(cmd, async (orch) => {
        const l = orch.lake;
        const run = await l.catalog.runs.require(runId);
        return {
          ...run,
          tasks: run.job ? await orch.queue.tasks(runId) : [],
          attempts: run.job ? await orch.queue.attempts(runId) : [],
          models: await l.catalog.runLog.modelRuns(runId),
          checks: await l.catalog.runLog.checkResults(runId),
        };
      });
      emit(cmd, detail, () =>
        [
          `run ${detail.runId} (${detail.job ? `job ${detail.job}` : detail.kind}): ${detail.status}, started ${detail.startedAt.toISOString()}${detail.error ? `, error: ${detail.error}` : ''}`,
          ...(detail.trigger
            ? [`triggered by ${detail.trigger}${detail.detail ? `: ${detail.detail}` : ''}${detail.partition ? ` · partition ${detail.partition}` : ''}`]
            : []),
          ...(detail.tasks.length
            ? [
                renderTable(
                  ['task', 'status', 'attempts', 'seconds', 'worker', 'error'],
                  detail.tasks.map((t) => ({
                    task: t.task,
                    status: t.status,
                    attempts: `${t.attempts}/${t.maxAttempts}`,
                    seconds: seconds(t.startedAt, t.finishedAt),
                    worker: t.worker ?? '',
                    error: t.error ?? '',
                  })),
                  90,
                ),
              ]
            : []),
          ...detail.attempts
            .filter((a) => opts.logs || (a.status !== 'success' && a.status !== 'running'))
            .flatMap((a) => [
              `--- ${a.task} attempt ${a.attempt} on ${a.worker}: ${a.status}${a.error ? ` (${a.error})` : ''}`,
              ...a.logs.split('\n').filter(Boolean).map(readableLogLine),
            ]),
          ...(detail.models.length
            ? [
                renderTable(
                  ['model', 'status', 'mode', 'rows_in', 'rows_out', 'snapshot', 'seconds', 'error'],
                  detail.models.map((m) => ({
                    model: m.model,
                    status: m.status,
                    mode: m.mode ?? '',
                    rows_in: m.rowsIn ?? '',
                    rows_out: m.rowsOut ?? '',
                    snapshot: m.snapshotId ?? '',
                    seconds: seconds(m.startedAt, m.finishedAt),
                    error: m.error ?? '',
                  })),
                  100,
                ),
              ]
            : []),
          ...describeChecks(detail.checks, true),
        ].join('\n'),
      );
    });
  runs
    .command('retry')
    .description('run again the tasks of a job run that did not succeed (failed, not run, cancelled), as a new run, and wait for it')
    .argument('<run>', 'job run id')
    .option('--detach', 'only queue the new run')
    .action(async (runId: string, opts: { detach?: boolean }, cmd: Command) => {
      await withOrchestration(cmd, async (orch) => {
        const newRun = await orch.retry(runId);
        if (opts.detach) return emit(cmd, { runId: newRun, retryOf: runId }, () => `queued run ${newRun} (retry of ${runId})`);
        await runToEnd(cmd, orch, newRun, createLogger('jobs'));
      });
    });
  runs
    .command('cancel')
    .description('cancel a queued or running job run: pending tasks at once, running ones when their worker next reports (within its heartbeat)')
    .argument('<run>', 'job run id')
    .action(async (runId: string, _opts: unknown, cmd: Command) => {
      const closed = await withOrchestration(cmd, (orch) => orch.queue.cancel(runId));
      emit(
        cmd,
        { runId, status: 'cancelled', closed: Boolean(closed) },
        () => `cancelled ${runId}${closed ? '' : ' (running tasks stop at their next heartbeat)'}`,
      );
    });
  return runs;
}

/** A task's JSON log line as `time level message {fields}`. */
function readableLogLine(line: string): string {
  try {
    const { level, time, msg, pid: _p, hostname: _h, runId: _r, job: _j, task: _t, attempt: _a, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const name = typeof level === 'number' ? (level >= 50 ? 'ERROR' : level >= 40 ? 'WARN ' : level >= 30 ? 'INFO ' : 'DEBUG') : String(level);
    const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `    ${typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : ''} ${name} ${String(msg ?? '')}${fields}`;
  } catch {
    return `    ${line}`;
  }
}
