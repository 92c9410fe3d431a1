/**
 * The process one task attempt runs in, forked by a Worker: a timeout or a cancel can stop it, and whatever it
 * does cannot take the worker (or the server of `tributary dev`) down. A killed attempt leaves no half-written
 * snapshot: every lake write becomes visible in one catalog commit. Logs are JSON lines on stdout, bound to the
 * run, task and attempt; the result goes back over the IPC channel.
 */
import { assetKindOf } from './kinds/index.js';
import { pino } from 'pino';
import { loadConfig } from '../config/load.js';
import { TributaryError, errorMessage } from '../errors.js';
import { Lake } from '../lake/lake.js';
import { executeTask, type TaskSummary } from './execute.js';

export interface TaskRequest {
  projectDir: string;
  runId: string;
  job: string;
  task: string;
  attempt: number;
  partition: string | undefined;
  logLevel: string;
}

export type TaskResponse = { ok: true; summary: TaskSummary } | { ok: false; error: string; retryable: boolean };

// The worker went away (killed): nobody would record what this attempt does, so stop now.
process.on('disconnect', () => process.exit(0));
// Ctrl-C is for the worker: it lets the attempt finish, or stops it with SIGTERM.
process.on('SIGINT', () => undefined);

process.once('message', (request: TaskRequest) => {
  void run(request).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

async function run(request: TaskRequest): Promise<void> {
  const logger = pino(
    {
      level: request.logLevel,
      base: {
        runId: request.runId,
        job: request.job,
        task: request.task,
        attempt: request.attempt,
        ...(request.partition ? { partition: request.partition } : {}),
      },
    },
    pino.destination({ fd: 1, sync: true }),
  );
  const controller = new AbortController();
  process.on('SIGTERM', () => {
    // A stream stops after committing its batch; any other task simply ends (its writes are all or nothing).
    if (assetKindOf(request.task).handler.stopsGracefully && !controller.signal.aborted) controller.abort();
    else process.exit(143);
  });
  let response: TaskResponse;
  let lake: Lake | undefined;
  try {
    logger.info(`${request.task}: attempt ${request.attempt} started${request.partition ? ` for partition ${request.partition}` : ''}`);
    lake = await Lake.open(await loadConfig(request.projectDir, { required: true }));
    const summary = await executeTask(lake, request.task, { runId: request.runId, partition: request.partition, logger, signal: controller.signal });
    response = { ok: true, summary };
  } catch (err) {
    const message = errorMessage(err).split('\n')[0]!;
    logger.error(
      { code: err instanceof TributaryError ? err.code : 'INTERNAL', ...(err instanceof TributaryError ? {} : { stack: (err as Error).stack }) },
      message,
    );
    response = { ok: false, error: message, retryable: !(err instanceof TributaryError && (err.code === 'CHECKS_FAILED' || err.code === 'CONFIG_INVALID')) };
  } finally {
    await lake?.close().catch(() => undefined);
  }
  await new Promise<void>((resolve) => process.send!(response, () => resolve()));
}
