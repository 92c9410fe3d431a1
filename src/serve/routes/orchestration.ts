import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Orchestration } from '../../orchestration/orchestration.js';
import { scheduleInfo } from '../../orchestration/scheduler.js';
import { NotFound } from '../context.js';
import { integer, intOrNull, numberOrNull, obj, oneOf, strings, text, textOrNull, time, timeOrNull, typed } from '../schema-parts.js';

const assetsResponse = obj({
  assets: Type.Array(
    obj({
      key: text,
      kind: Type.String({ description: 'source, model, check, sync, stream, or a registered kind' }),
      upstream: strings,
      writes: strings,
      automated: Type.Boolean(),
      status: Type.String({ description: "the last task's status, 'materialized' when built outside jobs, or 'never run'" }),
      runId: textOrNull,
      finishedAt: timeOrNull,
      rows: intOrNull,
      committedAt: timeOrNull,
    }),
  ),
});
const runSummary = obj({
  runId: text,
  job: textOrNull,
  kind: Type.String({ description: "'job', or what the CLI ran: ingest, models, build, checks, stream…" }),
  trigger: text,
  detail: textOrNull,
  partition: textOrNull,
  status: text,
  createdAt: time,
  finishedAt: timeOrNull,
  error: textOrNull,
  seconds: numberOrNull,
});
const runDetail = obj({
  run: obj({
    runId: text,
    job: text,
    status: oneOf(['queued', 'running', 'success', 'failed', 'partial', 'cancelled', 'abandoned']),
    trigger: text,
    detail: textOrNull,
    partition: textOrNull,
    backfillId: textOrNull,
    parentRun: textOrNull,
    createdAt: time,
    finishedAt: timeOrNull,
    error: textOrNull,
  }),
  tasks: Type.Array(
    obj({
      task: text,
      status: oneOf(['pending', 'running', 'success', 'failed', 'upstream_failed', 'cancelled']),
      attempts: integer,
      maxAttempts: integer,
      notBefore: time,
      startedAt: timeOrNull,
      finishedAt: timeOrNull,
      worker: textOrNull,
      error: textOrNull,
      upstream: strings,
    }),
  ),
  attempts: Type.Array(
    obj({
      task: text,
      attempt: integer,
      worker: text,
      status: text,
      startedAt: time,
      finishedAt: timeOrNull,
      error: textOrNull,
      summary: Type.Unsafe<unknown>({ type: ['object', 'null'], additionalProperties: true }),
      logs: text,
    }),
  ),
});
const schedulesResponse = obj({
  schedules: Type.Array(obj({ job: text, schedule: text, timezone: text, next: timeOrNull, lastFired: timeOrNull })),
  sensors: Type.Array(obj({ name: text, kind: text, job: text, interval: text, cursor: textOrNull })),
  automated: strings,
});
const runsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    job: Type.Optional(Type.String({ maxLength: 200, description: 'only the runs of this job' })),
  },
  { additionalProperties: false },
);
const runParams = Type.Object({ runId: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', maxLength: 200 }) });

/** The same object with its undefined properties as null: clients get every declared property, always. */
type Nulls<T> = { [K in keyof T]-?: undefined extends T[K] ? Exclude<T[K], undefined> | null : T[K] };
function nulls<T extends object>(value: T): Nulls<T> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === undefined ? null : v])) as Nulls<T>;
}

/** Orchestration, read-only: the asset graph with each asset's state, runs with tasks and logs, schedules. */
export async function orchestrationRoutes(parent: FastifyInstance, orch: Orchestration): Promise<void> {
  const app = typed(parent);
  app.get(
    '/api/v1/orchestration/assets',
    {
      schema: {
        tags: ['orchestration'],
        operationId: 'list_assets',
        summary: 'Assets (sources, models, checks, syncs, streams) with dependencies and state',
        response: { 200: assetsResponse },
      },
    },
    async () => {
      const states = await orch.queue.latestTaskStates();
      const tables = new Map((await orch.lake.catalog.listTables()).map((t) => [t.name, t]));
      const automated = new Set(orch.automated);
      return {
        assets: orch.graph.order.map((key) => {
          const asset = orch.graph.assets.get(key)!;
          const last = states.get(key);
          const written = asset.writes.map((w) => tables.get(w)).filter((t) => t !== undefined);
          return {
            key,
            kind: asset.kind,
            upstream: asset.upstream,
            writes: asset.writes,
            automated: automated.has(key),
            // Built outside jobs (`tributary ingest`, `run`, `build`): its table holds data, so it is not "never run".
            status: last?.status ?? (written.length ? 'materialized' : 'never run'),
            runId: last?.runId ?? null,
            finishedAt:
              last?.finishedAt?.toISOString() ??
              written
                .map((t) => t.updatedAt?.toISOString())
                .filter(Boolean)
                .sort()
                .at(-1) ??
              null,
            rows: written.length ? written.reduce((n, t) => n + t.rowCount, 0) : null,
            committedAt:
              written
                .map((t) => t.updatedAt?.toISOString())
                .filter(Boolean)
                .sort()
                .at(-1) ?? null,
          };
        }),
      };
    },
  );

  app.get(
    '/api/v1/orchestration/runs',
    {
      schema: {
        tags: ['orchestration'],
        summary: 'Recent runs, newest first: job runs, and ingestion, model, build, check and stream runs started from the CLI',
        operationId: 'list_runs',
        querystring: runsQuery,
        response: { 200: obj({ runs: Type.Array(runSummary) }) },
      },
    },
    async (request) => {
      const q = request.query;
      // One list for the runs of jobs and of commands (ingest, run, check, build, streams), newest first.
      const runs = (await orch.lake.catalog.runs.list({ limit: q.limit ?? 50, ...(q.job ? { job: q.job } : {}) })).map((r) => ({
        runId: r.runId,
        job: r.job ?? null,
        kind: r.job ? 'job' : r.kind,
        trigger: r.trigger ?? 'command',
        detail: r.detail ?? null,
        partition: r.partition ?? null,
        status: r.status,
        createdAt: r.startedAt,
        finishedAt: r.finishedAt ?? null,
        error: r.error ?? null,
        seconds: r.finishedAt ? (r.finishedAt.getTime() - r.startedAt.getTime()) / 1000 : null,
      }));
      return { runs };
    },
  );

  app.get(
    '/api/v1/orchestration/runs/:runId',
    {
      schema: {
        tags: ['orchestration'],
        summary: 'One job run: its tasks, and every attempt with its logs',
        operationId: 'get_run',
        params: runParams,
        response: { 200: runDetail },
      },
    },
    async (request) => {
      const { runId } = request.params;
      const run = await orch.lake.catalog.runs.get(runId);
      if (!run?.job) throw new NotFound(`no job run ${runId}`);
      const { runId: id, job, status, trigger, detail, partition, backfillId, parentRun, startedAt, finishedAt, error } = run;
      const view = { runId: id, job, status, trigger, detail, partition, backfillId, parentRun, createdAt: startedAt, finishedAt, error };
      return { run: nulls(view), tasks: (await orch.queue.tasks(runId)).map(nulls), attempts: (await orch.queue.attempts(runId)).map(nulls) };
    },
  );

  app.get(
    '/api/v1/orchestration/schedules',
    {
      schema: {
        tags: ['orchestration'],
        operationId: 'list_schedules',
        summary: 'Schedules with their next fire times, sensors, and automated models',
        response: { 200: schedulesResponse },
      },
    },
    async () => ({
      schedules: (await scheduleInfo(orch)).map(nulls),
      sensors: await Promise.all(
        Object.entries(orch.lake.config.sensors).map(async ([name, s]) => ({
          name,
          kind: s.kind,
          job: s.job,
          // As written in the config; a number of milliseconds as '<n>ms'.
          interval: typeof s.interval === 'number' ? `${s.interval}ms` : (s.interval ?? '30s'),
          cursor: (await orch.queue.cursor(`sensor:${name}`)) ?? null,
        })),
      ),
      automated: orch.automated,
    }),
  );
}
