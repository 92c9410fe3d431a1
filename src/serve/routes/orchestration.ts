import type { FastifyInstance } from 'fastify';
import type { Orchestration } from '../../orchestration/orchestration.js';
import { scheduleInfo } from '../../orchestration/scheduler.js';
import { NotFound } from '../context.js';
import { obj, strings, text, textOrNull, time, timeOrNull } from '../schema-parts.js';

const assetsResponse = obj({
  assets: {
    type: 'array',
    items: obj({
      key: text,
      kind: { type: 'string', description: 'source, model, check, sync, stream, or a registered kind' },
      upstream: strings,
      writes: strings,
      automated: { type: 'boolean' },
      status: { type: 'string', description: "the last task's status, 'materialized' when built outside jobs, or 'never run'" },
      runId: textOrNull,
      finishedAt: timeOrNull,
      rows: { type: ['integer', 'null'] },
      committedAt: timeOrNull,
    }),
  },
});
const runSummary = obj({
  runId: text,
  job: textOrNull,
  kind: { type: 'string', description: "'job', or what the CLI ran: ingest, models, build, checks, stream…" },
  trigger: text,
  detail: textOrNull,
  partition: textOrNull,
  status: text,
  createdAt: time,
  finishedAt: timeOrNull,
  error: textOrNull,
  seconds: { type: ['number', 'null'] },
});
const runDetail = obj({
  run: obj({
    runId: text,
    job: text,
    status: { type: 'string', enum: ['queued', 'running', 'success', 'failed', 'cancelled'] },
    trigger: text,
    detail: textOrNull,
    partition: textOrNull,
    backfillId: textOrNull,
    parentRun: textOrNull,
    createdAt: time,
    finishedAt: timeOrNull,
    error: textOrNull,
  }),
  tasks: {
    type: 'array',
    items: obj({
      task: text,
      status: { type: 'string', enum: ['pending', 'running', 'success', 'failed', 'upstream_failed', 'cancelled'] },
      attempts: { type: 'integer' },
      maxAttempts: { type: 'integer' },
      notBefore: time,
      startedAt: timeOrNull,
      finishedAt: timeOrNull,
      worker: textOrNull,
      error: textOrNull,
      upstream: strings,
    }),
  },
  attempts: {
    type: 'array',
    items: obj({
      task: text,
      attempt: { type: 'integer' },
      worker: text,
      status: text,
      startedAt: time,
      finishedAt: timeOrNull,
      error: textOrNull,
      summary: { type: ['object', 'null'], additionalProperties: true },
      logs: text,
    }),
  },
});
const schedulesResponse = obj({
  schedules: { type: 'array', items: obj({ job: text, schedule: text, timezone: text, next: timeOrNull, lastFired: timeOrNull }) },
  sensors: { type: 'array', items: obj({ name: text, kind: text, job: text, interval: text, cursor: textOrNull }) },
  automated: strings,
});

/** The same object with its undefined properties as null: clients get every declared property, always. */
function nulls<T extends object>(value: T): { [K in keyof T]-?: Exclude<T[K], undefined> | null } {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === undefined ? null : v])) as { [K in keyof T]-?: Exclude<T[K], undefined> | null };
}

/** Orchestration, read-only: the asset graph with each asset's state, runs with tasks and logs, schedules. */
export async function orchestrationRoutes(app: FastifyInstance, orch: Orchestration): Promise<void> {
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
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            job: { type: 'string', maxLength: 200, description: 'only the runs of this job' },
          },
        },
        response: { 200: obj({ runs: { type: 'array', items: runSummary } }) },
      },
    },
    async (request) => {
      const q = request.query as { limit: number; job?: string };
      // One list for the runs of jobs and of commands (ingest, run, check, build, streams), newest first.
      const runs = (await orch.lake.catalog.runs.list({ limit: q.limit, ...(q.job ? { job: q.job } : {}) })).map((r) => ({
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
        params: { type: 'object', properties: { runId: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', maxLength: 200 } }, required: ['runId'] },
        response: { 200: runDetail },
      },
    },
    async (request) => {
      const { runId } = request.params as { runId: string };
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
          interval: s.interval ?? '30s',
          cursor: (await orch.queue.cursor(`sensor:${name}`)) ?? null,
        })),
      ),
      automated: orch.automated,
    }),
  );
}
