import { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { Lake } from '../../lake/lake.js';
import {
  BACKFILL_PRIORITY,
  backfillStatus,
  cancelBackfill,
  createBackfill,
  feedBackfills,
  listBackfills,
  planBackfill,
  resumeBackfill,
} from '../../orchestration/backfill.js';
import { flushNotifications, projectWorker } from '../../orchestration/notify.js';
import { Orchestration } from '../../orchestration/orchestration.js';
import { scheduleInfo } from '../../orchestration/scheduler.js';
import { createLogger, type Logger } from '../../util/logger.js';
import { emit, projectDir, stopOnSignals, withLake } from '../context.js';
import { renderTable } from '../output.js';
import { positiveInt } from '../options.js';
import { freshnessCheck } from '../../orchestration/freshness.js';

/** Opens the project's orchestration for one command. */
async function withOrchestration<T>(cmd: Command, fn: (orch: Orchestration) => Promise<T>): Promise<T> {
  return withLake(cmd, async (lake) => fn(await Orchestration.open(lake)));
}

/**
 * Runs a worker in this process until `done` says so or Ctrl-C. On Ctrl-C, `onInterrupt` runs first (cancel what
 * this command started), then running attempts are stopped. Returns false when interrupted.
 */
async function workUntil(
  orch: Orchestration,
  logger: Logger,
  done: () => Promise<boolean>,
  options: { concurrency?: number; scope: { runId?: string; backfillId?: string }; onInterrupt: () => Promise<void>; tick?: () => Promise<void> },
): Promise<boolean> {
  // Only this command's own work: runs queued by schedules are for `tributary dev` or workers.
  const freshness = await freshnessCheck(orch.lake);
  // A run this worker closes wakes the wait at once (other workers' runs are seen at the next look, 500 ms).
  let wake = () => {};
  const worker = projectWorker(orch.lake.config, orch.queue, logger, {
    concurrency: options.concurrency,
    scope: options.scope,
    isFresh: freshness.isFresh,
    onRunFinished: () => wake(),
  });
  const stop = stopOnSignals();
  worker.start();
  try {
    while (!stop.signal.aborted) {
      await options.tick?.();
      if (await done()) return true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await options.onInterrupt();
    return false;
  } finally {
    await worker.stop(stop.signal.aborted ? 0 : 10_000);
    freshness.close();
    stop.dispose();
    await flushNotifications();
  }
}

/** Waits for a run, executing its tasks here (other workers may take some). Exit code 1 unless it succeeds. */
async function runToEnd(cmd: Command, orch: Orchestration, runId: string, logger: Logger): Promise<void> {
  const finished = await workUntil(
    orch,
    logger,
    async () => {
      const run = await orch.lake.catalog.runs.get(runId);
      return run !== undefined && !['queued', 'running'].includes(run.status);
    },
    { scope: { runId }, onInterrupt: async () => void (await orch.queue.cancel(runId).catch(() => undefined)) },
  );
  const run = (await orch.lake.catalog.runs.get(runId))!;
  const tasks = await orch.queue.tasks(runId);
  emit(cmd, { ...run, tasks }, () =>
    [
      renderTable(
        ['task', 'status', 'attempts', 'seconds', 'error'],
        tasks.map((t) => ({ task: t.task, status: t.status, attempts: t.attempts, seconds: seconds(t.startedAt, t.finishedAt), error: t.error ?? '' })),
        90,
      ),
      `run ${runId} (${run.job}${run.partition ? `, partition ${run.partition}` : ''}): ${run.status}${finished ? '' : ' (interrupted)'}${run.error ? ` — ${run.error}` : ''}`,
    ].join('\n'),
  );
  if (run.status !== 'success') process.exitCode = 1;
}

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('jobs: selections of assets run together by hand, on schedules or by sensors');
  jobs
    .command('ls')
    .description('declared jobs with their assets, schedules and next fire times')
    .action(async (_opts: unknown, cmd: Command) => {
      const list = await withOrchestration(cmd, async (orch) => {
        const schedules = await scheduleInfo(orch);
        return [...orch.jobs.values()].map((j) => ({
          job: j.name,
          assets: j.tasks.map((t) => t.key),
          schedule: j.schedules.map((s) => s.expression),
          timezone: j.timezone,
          next:
            schedules
              .filter((s) => s.job === j.name)
              .map((s) => s.next?.toISOString())
              .filter(Boolean)
              .sort()[0] ?? null,
          partitions: j.partitions ? `${j.partitions.granularity} from ${j.partitions.start}` : null,
        }));
      });
      emit(cmd, list, () =>
        list.length === 0
          ? 'no jobs declared (add jobs: to tributary.config.ts)'
          : renderTable(
              ['job', 'assets', 'schedule', 'next', 'partitions'],
              list.map((j) => ({
                ...j,
                assets: j.assets.join(' '),
                schedule: j.schedule.length ? `${j.schedule.join(', ')} (${j.timezone})` : '-',
                next: j.next ?? '-',
                partitions: j.partitions ?? '-',
              })),
              70,
            ),
      );
    });
  jobs
    .command('run')
    .description('run a job now and wait for it, executing its tasks in this process (exit code 1 if it fails; Ctrl-C cancels it)')
    .argument('<job>', 'job name (see `tributary jobs ls`)')
    .option('--partition <key>', 'for a partitioned job: the day (YYYY-MM-DD) or month (YYYY-MM) to run')
    .option('--detach', 'only queue the run, for `tributary worker` or `tributary dev` to execute')
    .action(async (name: string, opts: { partition?: string; detach?: boolean }, cmd: Command) => {
      await withOrchestration(cmd, async (orch) => {
        const runId = await orch.launch(name, { partition: opts.partition });
        if (opts.detach) return emit(cmd, { runId }, () => `queued run ${runId}`);
        await runToEnd(cmd, orch, runId, createLogger('jobs'));
      });
    });
  return jobs;
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description(
      'run a partitioned job over a range of partitions: plans those missing or failed, runs them a few at a time (behind fresh scheduled runs); Ctrl-C cancels, `tributary backfills resume` resumes',
    )
    .argument('<job>', 'partitioned job')
    .requiredOption('--from <partition>', 'first day (YYYY-MM-DD) or month (YYYY-MM)')
    .requiredOption('--to <partition>', 'last one, included')
    .option('--dry-run', 'show the plan only')
    .option('--parallelism <n>', 'partitions running at once', '2')
    .option('--detach', 'only record the backfill, for `tributary dev` (its scheduler) and workers to run')
    .action(async (name: string, opts: { from: string; to: string; dryRun?: boolean; parallelism: string; detach?: boolean }, cmd: Command) => {
      const parallelism = positiveInt(opts.parallelism, '--parallelism');
      await withOrchestration(cmd, async (orch) => {
        const plan = await planBackfill(orch, name, opts.from, opts.to);
        const human = () =>
          [
            `backfill of ${name}: ${plan.planned.length} partition(s) to run, ${plan.skipped.length} left alone`,
            ...plan.planned.map((p) => `  run   ${p.partition}  (${p.reason})`),
            ...plan.skipped.map((p) => `  skip  ${p.partition}  (${p.status})`),
          ].join('\n');
        if (opts.dryRun) return emit(cmd, plan, human);
        const id = await createBackfill(orch, plan, parallelism);
        if (opts.detach) return emit(cmd, { backfillId: id, ...plan }, () => `${human()}\nrecorded backfill ${id}`);
        process.stderr.write(
          `${human()}\nbackfill ${id}: running ${parallelism} at a time (Ctrl-C cancels; resume with \`tributary backfills resume ${id}\`)\n`,
        );
        await backfillHere(cmd, orch, id, parallelism);
      });
    });
}

export function backfillsCommand(): Command {
  const backfills = new Command('backfills').description('backfills recorded in the catalog: list, inspect, cancel, resume');
  backfills
    .command('ls')
    .description('recent backfills')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withOrchestration(cmd, (orch) => listBackfills(orch));
      emit(cmd, list, () =>
        renderTable(
          ['backfill', 'job', 'status', 'partitions', 'done', 'created'],
          list.map((b) => ({
            backfill: b.backfillId,
            job: b.job,
            status: b.status,
            partitions: b.partitions.length,
            done: b.partitions.filter((p) => p.status === 'success').length,
            created: b.createdAt.toISOString(),
          })),
        ),
      );
    });
  backfills
    .command('show')
    .argument('<backfill>')
    .description("a backfill's partitions and their runs")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const status = await withOrchestration(cmd, (orch) => backfillStatus(orch, id));
      emit(cmd, status, () => renderBackfill(status));
    });
  backfills
    .command('cancel')
    .argument('<backfill>')
    .description('stop queuing partitions and cancel the running ones')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withOrchestration(cmd, (orch) => cancelBackfill(orch, id));
      emit(cmd, { backfillId: id, status: 'cancelled' }, () => `cancelled ${id}; resume with \`tributary backfills resume ${id}\``);
    });
  backfills
    .command('resume')
    .argument('<backfill>')
    .description('run again the partitions of a cancelled or failed backfill that have not succeeded, and wait for them')
    .option('--detach', 'only mark it running again, for `tributary dev` and workers')
    .action(async (id: string, opts: { detach?: boolean }, cmd: Command) => {
      await withOrchestration(cmd, async (orch) => {
        await resumeBackfill(orch, id);
        if (opts.detach) return emit(cmd, { backfillId: id, status: 'running' }, () => `resumed ${id}`);
        await backfillHere(cmd, orch, id, (await backfillStatus(orch, id)).parallelism);
      });
    });
  return backfills;
}

/** Moves a backfill on and executes its runs in this process until it ends (Ctrl-C cancels it); exit code 1 unless it succeeds. */
async function backfillHere(cmd: Command, orch: Orchestration, id: string, parallelism: number): Promise<void> {
  const logger = createLogger('backfill');
  let reported = 0;
  const finished = await workUntil(
    orch,
    logger,
    async () => {
      const status = await backfillStatus(orch, id);
      const settled = status.partitions.filter((p) => p.status === 'success' || p.status === 'failed').length;
      if (settled !== reported) {
        reported = settled;
        logger.info({ backfillId: id }, `backfill ${id}: ${settled}/${status.partitions.length} partitions done`);
      }
      return status.status !== 'running';
    },
    {
      concurrency: Math.max(parallelism, orch.lake.config.orchestration.workerConcurrency ?? 2),
      scope: { backfillId: id },
      tick: async () => void (await feedBackfills(orch)),
      onInterrupt: async () => void (await cancelBackfill(orch, id).catch(() => undefined)),
    },
  );
  const status = await backfillStatus(orch, id);
  emit(cmd, status, () => renderBackfill(status) + (finished ? '' : `\ncancelled: resume with \`tributary backfills resume ${id}\``));
  if (status.status !== 'success') process.exitCode = 1;
}

function renderBackfill(b: Awaited<ReturnType<typeof backfillStatus>>): string {
  return [
    `backfill ${b.backfillId} of ${b.job}: ${b.status} (${b.partitions.filter((p) => p.status === 'success').length}/${b.partitions.length} succeeded, ${b.parallelism} at a time, priority ${BACKFILL_PRIORITY} behind fresh runs)`,
    renderTable(
      ['partition', 'status', 'run'],
      b.partitions.map((p) => ({ ...p, run: p.runId ?? '' })),
    ),
  ].join('\n');
}

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'execute queued tasks (from `jobs run --detach`, schedules, sensors, backfills) until Ctrl-C; run several, on several machines, against one PostgreSQL catalog',
    )
    .option('--concurrency <n>', 'task attempts at once (default: orchestration.workerConcurrency, else 2)')
    .action(async (opts: { concurrency?: string }, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const lake = await Lake.open(config);
      const logger = createLogger('worker');
      const orch = await Orchestration.open(lake);
      const freshness = await freshnessCheck(lake);
      const worker = projectWorker(config, orch.queue, logger, {
        concurrency: opts.concurrency ? positiveInt(opts.concurrency, '--concurrency') : undefined,
        isFresh: freshness.isFresh,
      });
      const stop = stopOnSignals();
      worker.start();
      logger.info({ worker: worker.id, catalog: lake.catalog.location }, `worker ${worker.id} started`);
      await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      logger.info('stopping: running tasks get 10 s to finish, then go back to the queue');
      await worker.stop(10_000);
      freshness.close();
      await flushNotifications();
      stop.dispose();
      await lake.close();
    });
}

function seconds(start: Date | undefined, end: Date | undefined): string {
  return start && end ? ((end.getTime() - start.getTime()) / 1000).toFixed(1) : '';
}

export { runToEnd, withOrchestration, seconds };
