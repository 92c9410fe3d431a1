import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DashboardPage } from '../../config/types.js';
import type { ServeContext } from '../context.js';
import { text } from '../schema-parts.js';

const ASSETS = fileURLToPath(new URL('../../../dashboard', import.meta.url));
const require = createRequire(import.meta.url);
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/** The dashboard at `/`: static assets shipped with the package (no CDN); public, they hold no data. */
export async function dashboardAssets(app: FastifyInstance): Promise<void> {
  const files: Record<string, { body: Buffer; type: string }> = {
    '/': { body: readFileSync(path.join(ASSETS, 'index.html')), type: 'text/html; charset=utf-8' },
    '/assets/app.js': { body: readFileSync(path.join(ASSETS, 'app.js')), type: 'text/javascript; charset=utf-8' },
    '/assets/style.css': { body: readFileSync(path.join(ASSETS, 'style.css')), type: 'text/css; charset=utf-8' },
    '/assets/chart.js': { body: readFileSync(CHART_JS), type: 'text/javascript; charset=utf-8' },
  };
  for (const [url, file] of Object.entries(files)) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.type(file.type).header('Cache-Control', 'public, max-age=300').send(file.body));
  }
}

/** The pages declared in `serve.dashboard` (or one per exposed table), for the dashboard's app. */
export async function dashboardApi(app: FastifyInstance, ctx: ServeContext): Promise<void> {
  app.get(
    '/api/v1/dashboard',
    {
      schema: {
        tags: ['dashboard'],
        operationId: 'get_dashboard',
        summary: 'The dashboard pages declared in serve.dashboard (or one page per exposed table)',
        response: { 200: dashboardSchema },
      },
    },
    async () => ({
      title: ctx.settings.dashboard?.title ?? `${ctx.lake.config.name} — Tributary`,
      locale: ctx.settings.dashboard?.locale ?? 'en',
      pages: ctx.settings.dashboard?.pages ?? defaultPages(ctx),
    }),
  );
}

const chartSchema = {
  type: 'object',
  properties: {
    title: text,
    source: { type: 'string', description: 'a path under /api/v1 returning rows' },
    type: { type: 'string', enum: ['line', 'bar', 'doughnut', 'table', 'kpi'] },
    x: text,
    y: { anyOf: [text, { type: 'array', items: text }] },
    filter: text,
    field: text,
    granularity: {
      type: 'object',
      properties: { param: text, choices: { type: 'array', items: text } },
      required: ['param', 'choices'],
      additionalProperties: false,
    },
  },
  required: ['title', 'source', 'type'],
  additionalProperties: false,
};
const dashboardSchema = {
  type: 'object',
  properties: {
    title: text,
    locale: { type: 'string', enum: ['en', 'fr'], description: 'the language of the dashboard’s own words' },
    pages: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: text, title: text, charts: { type: 'array', items: chartSchema } },
        required: ['id', 'title', 'charts'],
        additionalProperties: false,
      },
    },
  },
  required: ['title', 'locale', 'pages'],
  additionalProperties: false,
};

/** Without declared pages: one page listing the exposed tables, each as a filterable table, plus the pipeline. */
function defaultPages(ctx: ServeContext): DashboardPage[] {
  return [
    {
      id: 'tables',
      title: 'Tables',
      charts: ctx.live.list().map((t) => ({ title: t.name, type: 'table' as const, source: `/tables/${t.name.replace('.', '/')}?limit=50` })),
    },
    {
      id: 'pipeline',
      title: 'Pipeline',
      charts: [
        { title: 'Tables', type: 'table' as const, source: '/pipeline-status', field: 'tables' },
        {
          title: ctx.settings.dashboard?.locale === 'fr' ? 'Dernières exécutions' : 'Last runs',
          type: 'table' as const,
          source: '/pipeline-status',
          field: 'runs',
        },
      ],
    },
  ];
}
