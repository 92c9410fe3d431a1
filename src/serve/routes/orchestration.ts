import type { FastifyInstance } from 'fastify';
import type { Orchestration } from '../../orchestration/orchestration.js';
import { scheduleInfo } from '../../orchestration/scheduler.js';
import { NotFound } from '../context.js';

const object = { type: 'object', additionalProperties: true } as const;

/** Orchestration, read-only: the asset graph with each asset's state, runs with tasks and logs, schedules. */
export async function orchestrationRoutes(app: FastifyInstance, orch: Orchestration): Promise<void> {
  app.get('/api/v1/orchestration/assets', {
    schema: { tags: ['orchestration'], summary: 'Assets (sources, models, checks, syncs, streams) with dependencies and state', response: { 200: object } },
  }, async () => {
    const states = await orch.queue.latestTaskStates();
    const tables = new Map((await orch.lake.catalog.listTables()).map((t) => [t.name, t]));
    const automated = new Set(orch.automated);
    return {
      assets: orch.graph.order.map((key) => {
        const asset = orch.graph.assets.get(key)!;
        const last = states.get(key);
        const written = asset.writes.map((w) => tables.get(w)).filter((t) => t !== undefined);
        return {
          key, kind: asset.kind, upstream: asset.upstream, writes: asset.writes, automated: automated.has(key),
          // Built outside jobs (`tributary ingest`, `run`, `build`): its table holds data, so it is not "never run".
          status: last?.status ?? (written.length ? 'materialized' : 'never run'), runId: last?.runId ?? null,
          finishedAt: last?.finishedAt?.toISOString() ?? written.map((t) => t.updatedAt?.toISOString()).filter(Boolean).sort().at(-1) ?? null,
          rows: written.length ? written.reduce((n, t) => n + t.rowCount, 0) : null,
          committedAt: written.map((t) => t.updatedAt?.toISOString()).filter(Boolean).sort().at(-1) ?? null,
        };
      }),
    };
  });

  app.get('/api/v1/orchestration/runs', {
    schema: {
      tags: ['orchestration'], summary: 'Recent runs, newest first: job runs, and ingestion, model, build, check and stream runs started from the CLI',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, job: { type: 'string' } } },
      response: { 200: object },
    },
  }, async (request) => {
    const q = request.query as { limit: number; job?: string };
    const jobRuns = (await orch.queue.listRuns({ limit: q.limit, job: q.job })).map((r) => ({ ...r, kind: 'job', seconds: r.finishedAt ? (r.finishedAt.getTime() - r.createdAt.getTime()) / 1000 : null }));
    const others = q.job
      ? []
      : (await orch.lake.catalog.listRuns(q.limit)).filter((r) => !r.job && r.kind !== 'job').map((r) => ({
          runId: r.runId, job: null, kind: r.kind, trigger: 'command', partition: null, status: r.status, createdAt: r.startedAt, finishedAt: r.finishedAt ?? null,
          error: r.error ?? null, seconds: r.finishedAt ? (r.finishedAt.getTime() - r.startedAt.getTime()) / 1000 : null,
        }));
    const runs = [...jobRuns, ...others].sort((a, b) => new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime()).slice(0, q.limit);
    return { runs };
  });

  app.get('/api/v1/orchestration/runs/:runId', {
    schema: {
      tags: ['orchestration'], summary: 'One job run: its tasks, and every attempt with its logs',
      params: { type: 'object', properties: { runId: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' } }, required: ['runId'] },
      response: { 200: object },
    },
  }, async (request) => {
    const { runId } = request.params as { runId: string };
    const run = await orch.queue.getRun(runId);
    if (!run) throw new NotFound(`no job run ${runId}`);
    return { run, tasks: await orch.queue.tasks(runId), attempts: await orch.queue.attempts(runId) };
  });

  app.get('/api/v1/orchestration/schedules', {
    schema: { tags: ['orchestration'], summary: 'Schedules with their next fire times, sensors, and automated models', response: { 200: object } },
  }, async () => ({
    schedules: await scheduleInfo(orch),
    sensors: await Promise.all(Object.entries(orch.lake.config.sensors).map(async ([name, s]) => ({
      name, kind: s.kind, job: s.job, interval: s.interval ?? '30s', cursor: (await orch.queue.cursor(`sensor:${name}`)) ?? null,
    }))),
    automated: orch.automated,
  }));
}
