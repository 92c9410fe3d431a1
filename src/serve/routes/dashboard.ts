import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DashboardPage } from '../../config/types.js';
import type { ServeContext } from '../context.js';
import { Type } from 'typebox';
import { obj, oneOf, strings, text, typed } from '../schema-parts.js';

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
export async function dashboardApi(parent: FastifyInstance, ctx: ServeContext): Promise<void> {
  typed(parent).get(
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

const chartSchema = obj({
  title: text,
  source: Type.String({ description: 'a path under /api/v1 returning rows, or a full path starting with /api/' }),
  type: oneOf(['line', 'bar', 'doughnut', 'table', 'kpi']),
  x: Type.Optional(text),
  y: Type.Optional(Type.Union([text, strings])),
  filter: Type.Optional(text),
  field: Type.Optional(text),
  granularity: Type.Optional(obj({ param: text, choices: strings })),
});
const dashboardSchema = obj({
  title: text,
  locale: oneOf(['en', 'fr'], { description: 'the language of the dashboard’s own words' }),
  pages: Type.Array(obj({ id: text, title: text, charts: Type.Array(chartSchema) })),
});

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
