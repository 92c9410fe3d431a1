import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import type { ResolvedConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../util/logger.js';
import type { AttemptOutcome, ClaimedTask, FinishedRun, RunQueue } from '../catalog/stores/run-queue.js';
import type { FreshnessTest } from './freshness.js';
import { assetKindOf } from './kinds/index.js';
import type { TaskRequest, TaskResponse } from './task-process.js';

export interface WorkerOptions {
  /** Shown in `runs show` and logs (default host:pid). */
  id?: string;
  /** Task attempts run at once. */
  concurrency: number;
  /** How often the queue is polled when idle (default 1000 ms). */
  pollMs?: number;
  heartbeatMs: number;
  lostAfterMs: number;
  logger: Logger;
  /** Called once per run this worker closed (its last task ended here, or the run was reaped here). */
  onRunFinished?: (run: FinishedRun) => void;
  /** Only tasks of this run, or of this backfill's runs (a command executing its own work). */
  scope?: { runId?: string; backfillId?: string };
  /**
   * Why a task would do nothing (see freshness.ts), or undefined: such a task is finished here, without a task
   * process, so a job whose assets are all fresh takes a fraction of a second, not a process start per asset.
   */
  isFresh?: FreshnessTest;
}

interface Running {
  claim: ClaimedTask;
  child: ChildProcess;
  /** The attempt's last log lines (about the 64 KB the catalog keeps), and how many were ever written. */
  logs: string[];
  logChars: number;
  lines: number;
  savedLines: number;
  /** Set when the worker itself ends the attempt: it timed out, its run was cancelled, or the worker is stopping. */
  stopReason: AttemptOutcome['status'] | undefined;
  done: Promise<void>;
}

/** Log kept in memory per attempt: what the catalog keeps (64 KB), with some margin. */
const KEPT_LOG_CHARS = 96 * 1024;

const here = fileURLToPath(import.meta.url);
const extension = path.extname(here);

/**
 * Claims ready tasks from the run queue and runs each attempt in a child process (see task-process.ts), up to
 * `concurrency` at once. Reports heartbeats so that a task whose worker died is retried by another worker, stops
 * attempts that time out or whose run is cancelled, and keeps each attempt's log lines with its record.
 */
export class Worker {
  readonly id: string;
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Claimed tasks whose freshness is being checked: they count against the concurrency like running ones. */
  private checking = 0;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly queue: RunQueue,
    private readonly options: WorkerOptions,
  ) {
    this.id = options.id ?? `${hostname()}:${process.pid}`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks for work now (a run was just queued, a task just ended). */
  wake(): void {
    this.wakeUp?.();
  }

  get busy(): number {
    return this.running.size;
  }

  /**
   * Stops claiming; lets running attempts finish for up to `graceMs`, then stops them. Their attempts end as
   * `interrupted`: the tasks go back to the queue without using up a retry.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const deadline = Date.now() + graceMs;
    while ((this.running.size > 0 || this.checking > 0) && Date.now() < deadline)
      await Promise.race([...[...this.running.values()].map((r) => r.done), sleep(100)]);
    for (const r of this.running.values()) this.kill(r, 'interrupted');
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async run(): Promise<void> {
    let lastBeat = 0;
    while (!this.stopping) {
      try {
        if (Date.now() - lastBeat >= this.options.heartbeatMs) {
          lastBeat = Date.now();
          await this.beat();
        }
        while (!this.stopping && this.running.size + this.checking < this.options.concurrency) {
          const claim = await this.queue.claim(this.id, this.options.scope);
          if (!claim) break;
          // Stopped while claiming: hand the task back untouched.
          if (this.stopping) await this.queue.finishAttempt(claim, { status: 'interrupted', error: 'interrupted: the worker was stopped' });
          else this.dispatch(claim);
        }
      } catch (err) {
        this.options.logger.error({ err: errorMessage(err) }, 'worker: the run queue could not be read; retrying');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs ?? 1000);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /** Heartbeats, log flushes, cancellations, and tasks of dead workers put back in the queue. */
  private async beat(): Promise<void> {
    const running = [...this.running.values()];
    for (const stop of await this.queue.heartbeat(
      this.id,
      running.map((r) => r.claim),
    )) {
      const r = this.running.get(key(stop));
      if (!r) continue;
      if (stop.reason === 'lost')
        this.options.logger.warn(
          { runId: stop.runId, task: stop.task },
          `${stop.task}: this worker was too slow to report and the attempt was declared lost; stopping it`,
        );
      this.kill(r, stop.reason);
    }
    for (const r of running) {
      if (r.lines === r.savedLines || r.stopReason) continue;
      r.savedLines = r.lines;
      await this.queue.saveLogs(r.claim, r.logs.join('\n'));
    }
    for (const lost of await this.queue.reapLost(this.options.lostAfterMs)) {
      this.options.logger.warn(
        { runId: lost.runId, task: lost.task, worker: lost.worker },
        `task ${lost.task} of ${lost.runId} was lost with worker ${lost.worker}; it will be retried`,
      );
      if (lost.finishedRun) this.options.onRunFinished?.(lost.finishedRun);
    }
  }

  /** A task with nothing to do (a fresh model, a source with no new file, checks passed on these snapshots) is finished here; any other gets a task process. */
  private dispatch(claim: ClaimedTask): void {
    const isFresh = this.options.isFresh;
    if (!isFresh || !assetKindOf(claim.task).handler.isFresh) {
      this.launch(claim);
      return;
    }
    this.checking++;
    const checked = isFresh(claim.task, claim.partition).catch((err: unknown) => {
      this.options.logger.debug({ task: claim.task, err: errorMessage(err) }, 'freshness check failed; running the task');
      return undefined;
    });
    void checked.then(async (why) => {
      if (why === undefined && !this.stopping) {
        this.checking--;
        this.launch(claim);
        return;
      }
      const bindings = { runId: claim.runId, task: claim.task, attempt: claim.attempt };
      const outcome: AttemptOutcome =
        why !== undefined
          ? { status: 'success', summary: { status: 'fresh' }, logs: `${claim.task} is fresh (${why}): done without a task process` }
          : { status: 'interrupted', error: 'interrupted: the worker was stopped' };
      try {
        const { finishedRun } = await this.queue.finishAttempt(claim, outcome);
        if (why !== undefined) this.options.logger.info(bindings, `${claim.task}: fresh, skipped (${why})`);
        if (finishedRun) {
          this.options.logger.info(
            { runId: finishedRun.runId, job: finishedRun.job, status: finishedRun.status },
            `run ${finishedRun.runId} (${finishedRun.job}) ${finishedRun.status}`,
          );
          this.options.onRunFinished?.(finishedRun);
        }
      } catch (err) {
        this.options.logger.error(
          { ...bindings, err: errorMessage(err) },
          'could not record the attempt; the task will be retried once its heartbeat is stale',
        );
      } finally {
        this.checking--;
        this.wake();
      }
    });
  }

  private launch(claim: ClaimedTask): void {
    const { logger } = this.options;
    const request: TaskRequest = {
      projectDir: this.config.projectDir,
      runId: claim.runId,
      job: claim.job,
      task: claim.task,
      attempt: claim.attempt,
      partition: claim.partition,
      logLevel: logger.level === 'silent' ? 'info' : logger.level,
    };
    const child = fork(path.join(path.dirname(here), `task-process${extension}`), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: Ctrl-C in a terminal reaches the worker, which decides what happens to its tasks.
      detached: true,
      execArgv: extension === '.ts' ? ['--import', tsxLoader()] : [],
      env: process.env,
    });
    const entry: Running = { claim, child, logs: [], logChars: 0, lines: 0, savedLines: 0, stopReason: undefined, done: Promise.resolve() };
    const keep = (line: string) => {
      entry.logs.push(line);
      entry.lines++;
      entry.logChars += line.length + 1;
      while (entry.logChars > KEPT_LOG_CHARS && entry.logs.length > 1) entry.logChars -= entry.logs.shift()!.length + 1;
    };
    this.running.set(key(claim), entry);
    const bindings = { runId: claim.runId, task: claim.task, attempt: claim.attempt };
    // The attempt's own first line ("<task>: attempt N started", relayed below) says it started: once, not twice.

    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      relay(logger, line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      keep(line);
      logger.warn(bindings, line);
    });
    let response: TaskResponse | undefined;
    child.on('message', (m: TaskResponse) => (response = m));
    const timeout = setTimeout(() => this.kill(entry, 'timed_out'), claim.timeoutMs);
    const started = Date.now();
    entry.done = new Promise<void>((resolve) => {
      child.on('error', (err) => keep(`could not start the task process: ${err.message}`));
      child.on('close', (code, signal) => {
        clearTimeout(timeout);
        // A task process killed from outside while the worker stops (a signal to the whole group) was interrupted.
        if (!entry.stopReason && this.stopping && signal) entry.stopReason = 'interrupted';
        const outcome: AttemptOutcome = entry.stopReason
          ? { status: entry.stopReason, error: stopMessage(entry.stopReason, claim.timeoutMs) }
          : response?.ok
            ? { status: 'success', summary: response.summary }
            : response
              ? { status: 'failed', error: response.error, retryable: response.retryable }
              : { status: 'failed', error: `the task process ended without a result (${signal ? `signal ${signal}` : `exit code ${code}`})` };
        void this.queue
          .finishAttempt(claim, { ...outcome, logs: entry.logs.join('\n') })
          .then(({ retryAt, finishedRun }) => {
            const seconds = ((Date.now() - started) / 1000).toFixed(1);
            if (outcome.status === 'success') logger.info(bindings, `${claim.task}: succeeded in ${seconds} s`);
            else
              logger.warn(
                { ...bindings, status: outcome.status },
                `${claim.task}: ${outcome.status} after ${seconds} s: ${outcome.error}${retryAt ? `; retry at ${retryAt.toISOString()}` : ''}`,
              );
            if (finishedRun) {
              logger.info(
                { runId: finishedRun.runId, job: finishedRun.job, status: finishedRun.status },
                `run ${finishedRun.runId} (${finishedRun.job}) ${finishedRun.status}`,
              );
              this.options.onRunFinished?.(finishedRun);
            }
          })
          .catch((err) =>
            logger.error({ ...bindings, err: errorMessage(err) }, 'could not record the attempt; the task will be retried once its heartbeat is stale'),
          )
          .finally(() => {
            this.running.delete(key(claim));
            this.wake();
            resolve();
          });
      });
    });
    child.send(request);
  }

  private kill(entry: Running, reason: AttemptOutcome['status']): void {
    if (entry.stopReason) return;
    entry.stopReason = reason;
    entry.child.kill('SIGTERM');
    // A stream given SIGTERM commits its batch first; anything still there after 10 s is killed.
    setTimeout(() => entry.child.exitCode === null && entry.child.signalCode === null && entry.child.kill('SIGKILL'), 10_000).unref();
  }
}

function key(c: { runId: string; task: string }): string {
  return `${c.runId}\u0000${c.task}`;
}

function stopMessage(reason: AttemptOutcome['status'], timeoutMs: number): string {
  if (reason === 'timed_out') return `timed out after ${Math.round(timeoutMs / 1000)} s`;
  if (reason === 'lost') return 'lost: the worker did not report in time';
  if (reason === 'cancelled') return 'cancelled';
  return 'interrupted: the worker was stopped';
}

/** Re-logs a task's JSON log line through the worker's logger (readable on a terminal), or the raw line. */
function relay(logger: Logger, line: string): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    logger.info(line);
    return;
  }
  const { level, time: _time, pid: _pid, hostname: _host, msg, ...rest } = entry;
  const method =
    typeof level === 'number' && level >= 50
      ? 'error'
      : typeof level === 'number' && level >= 40
        ? 'warn'
        : typeof level === 'number' && level < 30
          ? 'debug'
          : 'info';
  logger[method](rest, typeof msg === 'string' ? msg : '');
}

let loader: string | undefined;
/** Running from TypeScript sources (tests, `tsx`): the task process needs tsx's loader too. */
function tsxLoader(): string {
  loader ??= pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
  return loader;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
