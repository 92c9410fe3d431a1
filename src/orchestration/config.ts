import { z } from 'zod';
import { tableNameSchema } from '../lake/table-name.js';
import { durationSchema } from '../util/duration.js';

/** The `jobs`, `sensors` and `orchestration` settings; their TypeScript types are inferred from these schemas. */

export const jobNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'job names use letters, digits, _ and -');

/**
 * Assets a job runs, as selectors:
 * - `source:<name>` ingests a declared source (`source:*`: all of them);
 * - `<layer>.<model>`, `<layer>` or `gold.*` builds models (each with its checks);
 * - `check:<table>` runs the checks of a table no model builds (a source's table);
 * - `sync:<table>` upserts a table into the operational store (`sync:*`: all of them);
 * - `stream:<name>` processes what a stream's topic holds, then stops;
 * - `*`: every asset. A leading `+` adds everything upstream, a trailing `+` everything downstream.
 */
export const jobSchema = z.strictObject({
  /** Asset selectors (see above). */
  select: z.array(z.string().min(1)).min(1),
  description: z.string().optional(),
  /** Cron expressions (5 or 6 fields, or @hourly, @daily, @weekly, @monthly, @yearly). */
  schedule: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** IANA time zone the schedule is read in (default 'UTC'), e.g. 'Europe/Paris'. */
  timezone: z.string().min(1).optional(),
  /** Date partitions: each run processes one day or month; scheduled runs take the period that just ended. */
  partitions: z
    .strictObject({ granularity: z.enum(['day', 'month']), start: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'expected a date YYYY-MM-DD') })
    .optional(),
  /** Retries of a failed task (default 2), after exponential backoff with jitter from `retryDelay` (default '10s') up to `maxRetryDelay` (default '10m'). */
  retries: z.number().int().min(0).max(100).optional(),
  retryDelay: durationSchema.optional(),
  maxRetryDelay: durationSchema.optional(),
  /** A task attempt running longer than this is stopped and counts as failed (default '1h'). */
  timeout: durationSchema.optional(),
  /** Tasks of one run executed at once (default 4). */
  concurrency: z.number().int().positive().optional(),
});
export type JobConfig = z.infer<typeof jobSchema>;

const sensorBase = {
  /** The job started when the sensor fires. */
  job: jobNameSchema,
  /** How often the condition is evaluated (default '30s'). */
  interval: durationSchema.optional(),
};

/** Sensors: conditions polled by the scheduler that start a job when they hold. */
export const sensorSchema = z.discriminatedUnion('kind', [
  /** Fires when files matching the glob appear (or change), relative to the project folder. */
  z.strictObject({ kind: z.literal('files'), glob: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), ...sensorBase }),
  /** Fires when a lake table gets a new snapshot. */
  z.strictObject({ kind: z.literal('table'), table: tableNameSchema, ...sensorBase }),
  /** Fires when the endpoint answers 2xx with a response (ETag, Last-Modified or body) different from the last firing. */
  z.strictObject({
    kind: z.literal('http'),
    url: z.string().regex(/^https?:\/\//, 'expected an http(s):// URL'),
    headers: z.record(z.string(), z.string()).optional(),
    ...sensorBase,
  }),
]);
export type SensorConfig = z.infer<typeof sensorSchema>;

/**
 * A probe: an asset that checks that a system answers (an API, a database) before the assets that need it run —
 * seed 004's availability checks, Airflow's HttpSensor and SqlSensor as a task that fails fast with a clear error.
 */
export const probeSchema = z.strictObject({
  /** `http(s)://…` (answers 2xx or 3xx), `postgres://…`, `mysql://…` or `mariadb://…` (answers `SELECT 1`). */
  url: z.string().regex(/^(https?|postgres(ql)?|mysql|mariadb):\/\//, 'expected an http(s)://, postgres://, mysql:// or mariadb:// URL'),
  /** No answer within this fails the probe (default '10s'). */
  timeout: durationSchema.optional(),
  /** Assets that wait for the probe (`source:coincap`, `sync:gold.prices`): they run only once it passed. */
  before: z.array(z.string().min(1)).optional(),
});
export type ProbeConfig = z.infer<typeof probeSchema>;

export const orchestrationSettingsSchema = z.strictObject({
  /** Tasks one `tributary dev` or `tributary worker` process runs at once (default 2). */
  workerConcurrency: z.number().int().positive().optional(),
  /** A running task whose worker has not reported for this long is retried elsewhere (default '60s'). */
  lostAfter: durationSchema.optional(),
  /** How often workers report on their running tasks (default '5s'). */
  heartbeat: durationSchema.optional(),
  /** POST a Slack-compatible JSON message (`{"text": …}`) to this URL when a run fails (and, with `notifyOn`, succeeds). */
  webhook: z
    .string()
    .regex(/^https?:\/\//, 'expected an http(s):// URL')
    .optional(),
  notifyOn: z.array(z.enum(['failure', 'success'])).optional(),
});
export type OrchestrationSettings = z.infer<typeof orchestrationSettingsSchema>;
