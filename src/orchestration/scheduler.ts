import { errorMessage } from '../errors.js';
import { toMillis } from '../util/duration.js';
import type { Logger } from '../util/logger.js';
import { dueAutomatedModels } from './automation.js';
import { feedBackfills } from './backfill.js';
import { AUTOMATION_JOB, type Orchestration } from './orchestration.js';
import { partitionBefore } from './partitions.js';
import { evaluateSensor } from './sensors.js';

export interface SchedulerOptions {
  logger: Logger;
  /** How often schedules are looked at (default 1000 ms). */
  tickMs?: number;
  /** How often automated models are checked for new inputs (default 5000 ms). */
  automationMs?: number;
  /** Called with each run the scheduler queues. */
  onRun?: (runId: string) => void;
}

export interface ScheduleInfo {
  job: string;
  schedule: string;
  timezone: string;
  next: Date | undefined;
  /** The tick the schedule last fired for. */
  lastFired: Date | undefined;
}

/**
 * Starts runs: cron schedules, sensors, declarative automation, and backfills' next partitions. Each schedule and
 * sensor keeps a cursor in the catalog, advanced compare-and-set in the transaction that queues the run, so
 * several schedulers (or a restart) never fire a tick twice. Ticks missed while no scheduler ran are not caught up:
 * the latest one missed fires once (use `tributary backfill` for the periods in between).
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly sensorDue = new Map<string, number>();
  private automationDue = 0;

  constructor(
    private readonly orch: Orchestration,
    private readonly options: SchedulerOptions,
  ) {}

  start(): void {
    const loop = () => {
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((err) => this.options.logger.error({ err: errorMessage(err) }, 'scheduler tick failed'))
        .finally(() => {
          this.ticking = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(loop, this.options.tickMs ?? 1000);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass over schedules, sensors (those due), automation and backfills. Returns the runs queued. */
  async tick(now = new Date()): Promise<string[]> {
    const queued: string[] = [];
    const { orch } = this;
    for (const job of orch.jobs.values()) {
      for (const [i, schedule] of job.schedules.entries()) {
        const name = `schedule:${job.name}:${i}`;
        try {
          const cursor = await orch.queue.cursor(name);
          if (cursor === undefined) {
            // First sight of this schedule: start counting from now (no firing for the past).
            await orch.queue.setCursor(name, undefined, JSON.stringify({ last: now.toISOString(), expression: schedule.expression }));
            continue;
          }
          const state = JSON.parse(cursor) as { last: string; expression: string; fired?: string };
          // A changed expression starts counting afresh rather than firing for a tick of the old one.
          const since = state.expression === schedule.expression ? new Date(state.last) : now;
          const due = schedule.lastDue(since, now);
          const fired = due?.toISOString() ?? state.fired;
          const next = JSON.stringify({ last: (due ?? since).toISOString(), expression: schedule.expression, ...(fired ? { fired } : {}) });
          if (!due) {
            if (since === now) await orch.queue.setCursor(name, cursor, next);
            continue;
          }
          const partition = job.partitions ? partitionBefore(job.partitions.granularity, due, job.timezone) : undefined;
          const spec = orch.runSpec(job, { trigger: 'schedule', detail: `${schedule.expression} (${job.timezone}) at ${due.toISOString()}`, partition });
          const runId = await orch.queue.fire(name, cursor, next, spec);
          if (runId) this.queued(queued, runId, `schedule of ${job.name} fired for ${due.toISOString()}${partition ? ` (partition ${partition})` : ''}`);
        } catch (err) {
          this.options.logger.error({ err: errorMessage(err), schedule: name }, `schedule of ${job.name} could not be evaluated`);
        }
      }
    }

    for (const [name, sensor] of Object.entries(orch.lake.config.sensors)) {
      if ((this.sensorDue.get(name) ?? 0) > now.getTime()) continue;
      this.sensorDue.set(name, now.getTime() + toMillis(sensor.interval ?? '30s', `sensors.${name}.interval`));
      try {
        const stateName = `sensor:${name}`;
        const cursor = await orch.queue.cursor(stateName);
        const evaluation = await evaluateSensor(name, sensor, orch.lake, cursor);
        if (!evaluation.fire) {
          if (evaluation.cursor !== cursor) await orch.queue.setCursor(stateName, cursor, evaluation.cursor);
          continue;
        }
        // One run at a time per sensor: what arrives meanwhile fires the next one (the cursor stays put until then).
        const active = await orch.lake.catalog.runs.list({ job: sensor.job, active: true });
        if (active.some((r) => r.trigger === 'sensor' && r.detail?.startsWith(`${name}:`))) continue;
        const job = orch.job(sensor.job);
        const partition = job.partitions ? partitionBefore(job.partitions.granularity, now, job.timezone) : undefined;
        const runId = await orch.queue.fire(
          stateName,
          cursor,
          evaluation.cursor,
          orch.runSpec(job, { trigger: 'sensor', detail: evaluation.detail, partition }),
        );
        if (runId) this.queued(queued, runId, `sensor ${evaluation.detail} → ${sensor.job}`);
      } catch (err) {
        this.options.logger.error({ err: errorMessage(err), sensor: name }, `sensor ${name} could not be evaluated`);
      }
    }

    if (orch.automated.length && this.automationDue <= now.getTime()) {
      this.automationDue = now.getTime() + (this.options.automationMs ?? 5000);
      try {
        // Compare-and-set on a cursor, as schedules do: two schedulers seeing the same due models queue one run.
        const cursor = await orch.queue.cursor('automation');
        const active = await orch.lake.catalog.runs.list({ job: AUTOMATION_JOB, active: true, limit: 1 });
        const due = active.length ? [] : await dueAutomatedModels(orch);
        if (due.length) {
          const spec = { ...orch.automationSpec(due), detail: `inputs changed: ${due.map((t) => t.key).join(', ')}` };
          const runId = await orch.queue.fire('automation', cursor, JSON.stringify({ queuedAt: now.toISOString(), models: due.map((t) => t.key) }), spec);
          if (runId) this.queued(queued, runId, `automation: ${due.map((t) => t.key).join(', ')}`);
        }
      } catch (err) {
        this.options.logger.error({ err: errorMessage(err) }, 'automation could not be evaluated');
      }
    }

    try {
      for (const runId of await feedBackfills(orch)) this.queued(queued, runId, 'backfill: next partition queued');
    } catch (err) {
      this.options.logger.error({ err: errorMessage(err) }, 'backfills could not be moved on');
    }
    return queued;
  }

  private queued(list: string[], runId: string, message: string): void {
    list.push(runId);
    this.options.logger.info({ runId }, message);
    this.options.onRun?.(runId);
  }
}

/** Each schedule of each job, with its next fire time (and the last, from the catalog). */
export async function scheduleInfo(orch: Orchestration, now = new Date()): Promise<ScheduleInfo[]> {
  const out: ScheduleInfo[] = [];
  for (const job of orch.jobs.values()) {
    for (const [i, schedule] of job.schedules.entries()) {
      const cursor = await orch.queue.cursor(`schedule:${job.name}:${i}`);
      const fired = cursor ? (JSON.parse(cursor) as { fired?: string }).fired : undefined;
      out.push({
        job: job.name,
        schedule: schedule.expression,
        timezone: job.timezone,
        next: schedule.next(now),
        lastFired: fired ? new Date(fired) : undefined,
      });
    }
  }
  return out;
}
