import type { JobConfig } from '../config/types.js';
import { TributaryError } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import type { ModelGraph } from '../models/graph.js';
import { loadGraph } from '../models/run.js';
import { toMillis } from '../util/duration.js';
import { AssetGraph, globToRegExp } from './assets.js';
import { partitionKey, type Granularity } from './partitions.js';
import { RunQueue, type RunSpec, type TaskPolicy, type TriggerKind } from '../catalog/stores/run-queue.js';
import { Schedule, checkTimezone } from './schedule.js';

export interface CompiledJob {
  name: string;
  config: JobConfig;
  /** Selected assets in dependency order, each with the selected assets it waits for. */
  tasks: { key: string; upstream: string[] }[];
  schedules: Schedule[];
  timezone: string;
  partitions: { granularity: Granularity; start: string } | undefined;
  policy: TaskPolicy;
  concurrency: number;
}

/** How a run of a job is queued: what triggered it, for which partition, and (a retry) which of its tasks. */
export interface LaunchOptions {
  partition?: string;
  trigger?: TriggerKind;
  detail?: string;
  backfillId?: string;
  priority?: number;
  tasks?: string[];
  parentRun?: string;
}

/** The name runs of declarative automation are recorded under. */
export const AUTOMATION_JOB = 'automation';

/**
 * A project's orchestration, compiled and checked: the asset graph, its jobs (selections resolved, schedules
 * parsed), the automated models, and the run queue in the catalog. Definitions are separate from execution:
 * workers and the scheduler act on what this describes.
 */
export class Orchestration {
  readonly queue: RunQueue;

  private constructor(
    readonly lake: Lake,
    readonly models: ModelGraph,
    readonly graph: AssetGraph,
    readonly jobs: Map<string, CompiledJob>,
    /** Models rebuilt when their inputs change, in dependency order. */
    readonly automated: string[],
  ) {
    this.queue = new RunQueue(lake.catalog.driver);
  }

  static async open(lake: Lake): Promise<Orchestration> {
    const config = lake.config;
    const models = await loadGraph(lake);
    const graph = new AssetGraph(config, models);
    const jobs = new Map<string, CompiledJob>();
    for (const [name, job] of Object.entries(config.jobs)) jobs.set(name, compileJob(graph, name, job));
    for (const [name, sensor] of Object.entries(config.sensors)) {
      if (!jobs.has(sensor.job)) {
        throw new TributaryError('CONFIG_INVALID', `sensors.${name}.job: no job "${sensor.job}"`, { hint: `jobs: ${[...jobs.keys()].join(', ') || 'none'}` });
      }
      toMillis(sensor.interval ?? '30s', `sensors.${name}.interval`);
    }
    const automated = config.automate.length
      ? graph.order.filter((k) => graph.assets.get(k)!.kind === 'model' && config.automate.some((p) => automates(p, k)))
      : [];
    for (const pattern of config.automate) {
      if (!graph.order.some((k) => graph.assets.get(k)!.kind === 'model' && automates(pattern, k))) {
        throw new TributaryError('CONFIG_INVALID', `automate: "${pattern}" matches no model`, {
          hint: `models: ${graph.order.filter((k) => graph.assets.get(k)!.kind === 'model').join(', ') || 'none'}`,
        });
      }
    }
    return new Orchestration(lake, models, graph, jobs, automated);
  }

  job(name: string): CompiledJob {
    const job = this.jobs.get(name);
    if (!job)
      throw new TributaryError('NOT_FOUND', `no job "${name}"`, {
        hint: `jobs: ${[...this.jobs.keys()].join(', ') || 'none declared (add jobs: to tributary.config.ts)'}`,
      });
    return job;
  }

  /** Queues a run of a job. A partitioned job needs a partition; others refuse one. */
  async launch(name: string, options: LaunchOptions = {}): Promise<string> {
    return this.queue.createRun(this.runSpec(this.job(name), options));
  }

  runSpec(job: CompiledJob, options: LaunchOptions): RunSpec {
    let partition: string | undefined;
    if (job.partitions) {
      if (options.partition === undefined) {
        throw new TributaryError('INVALID_INPUT', `job ${job.name} is partitioned by ${job.partitions.granularity}: name the partition to run`, {
          hint: '--partition 2011-01-04, or `tributary backfill`',
        });
      }
      partition = partitionKey(job.partitions.granularity, options.partition, '--partition');
      if (partition < partitionKey(job.partitions.granularity, job.partitions.start, `jobs.${job.name}.partitions.start`)) {
        throw new TributaryError('INVALID_INPUT', `job ${job.name}: partition ${partition} is before the first one (${job.partitions.start})`);
      }
    } else if (options.partition !== undefined) {
      throw new TributaryError('INVALID_INPUT', `job ${job.name} is not partitioned: it takes no partition`);
    }
    let tasks = job.tasks;
    if (options.tasks) {
      // A retry: only the given tasks, waiting for each other as before.
      const keep = new Set(options.tasks);
      const deps = this.graph.dependencies(job.tasks.map((t) => t.key).filter((k) => keep.has(k)));
      tasks = job.tasks.filter((t) => keep.has(t.key)).map((t) => ({ key: t.key, upstream: deps.get(t.key) ?? [] }));
    }
    return {
      job: job.name,
      tasks,
      trigger: options.trigger ?? 'manual',
      detail: options.detail,
      partition,
      backfillId: options.backfillId,
      parentRun: options.parentRun,
      priority: options.priority ?? 0,
      concurrency: job.concurrency,
      policy: job.policy,
    };
  }

  /** Runs the tasks of a finished run that did not succeed (failed, not run, cancelled) as a new run. */
  async retry(runId: string): Promise<string> {
    const run = await this.lake.catalog.runs.get(runId);
    if (!run?.job) throw new TributaryError('NOT_FOUND', `no job run ${runId}`, { hint: 'see `tributary runs ls`' });
    if (run.status === 'queued' || run.status === 'running')
      throw new TributaryError('CONFLICT', `run ${runId} is still ${run.status}`, { hint: `cancel it first: tributary runs cancel ${runId}` });
    const tasks = (await this.queue.tasks(runId)).filter((t) => t.status !== 'success').map((t) => t.task);
    if (tasks.length === 0) throw new TributaryError('CONFLICT', `run ${runId} succeeded: nothing to retry`);
    if (run.job === AUTOMATION_JOB) {
      const deps = this.graph.dependencies(tasks);
      return this.queue.createRun({
        ...this.automationSpec(tasks.map((key) => ({ key, upstream: deps.get(key) ?? [] }))),
        trigger: 'retry',
        detail: `retry of ${runId}`,
        parentRun: runId,
      });
    }
    return this.launch(run.job, {
      partition: run.partition,
      trigger: 'retry',
      detail: `retry of ${runId}`,
      tasks,
      parentRun: runId,
      ...(run.backfillId ? { backfillId: run.backfillId, priority: 10 } : {}),
    });
  }

  /** A run of automated models, with the defaults jobs have. */
  automationSpec(tasks: { key: string; upstream: string[] }[]): RunSpec {
    return { job: AUTOMATION_JOB, tasks, trigger: 'automation', concurrency: 4, policy: defaultPolicy() };
  }
}

function compileJob(graph: AssetGraph, name: string, job: JobConfig): CompiledJob {
  const where = `jobs.${name}`;
  const selected = graph.select(job.select, `${where}.select`);
  const deps = graph.dependencies(selected);
  const timezone = job.timezone ?? 'UTC';
  checkTimezone(timezone, `${where}.timezone`);
  const schedules = [job.schedule ?? []]
    .flat()
    .map((expr, i) => new Schedule(expr, timezone, `${where}.schedule${Array.isArray(job.schedule) ? `[${i}]` : ''}`));
  if (job.partitions) partitionKey(job.partitions.granularity, job.partitions.start, `${where}.partitions.start`);
  return {
    name,
    config: job,
    tasks: selected.map((key) => ({ key, upstream: deps.get(key) ?? [] })),
    schedules,
    timezone,
    partitions: job.partitions,
    policy: {
      maxAttempts: (job.retries ?? 2) + 1,
      retryDelayMs: toMillis(job.retryDelay ?? '10s', `${where}.retryDelay`),
      maxRetryDelayMs: toMillis(job.maxRetryDelay ?? '10m', `${where}.maxRetryDelay`),
      timeoutMs: maxTimeout(toMillis(job.timeout ?? '1h', `${where}.timeout`), `${where}.timeout`),
    },
    concurrency: job.concurrency ?? 4,
  };
}

/** Node's timers hold at most 2^31−1 ms (24.8 days); a longer one would fire at once. */
function maxTimeout(ms: number, where: string): number {
  if (ms <= 0 || ms > 2 ** 31 - 1) throw new TributaryError('CONFIG_INVALID', `${where}: a task timeout must be between 1 ms and 24 days`);
  return ms;
}

function defaultPolicy(): TaskPolicy {
  return { maxAttempts: 3, retryDelayMs: 10_000, maxRetryDelayMs: 600_000, timeoutMs: 3_600_000 };
}

function automates(pattern: string, model: string): boolean {
  return pattern.includes('*') ? globToRegExp(pattern).test(model) : model === pattern || model.split('.')[0] === pattern;
}
