import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/serve/server.js';
import { openTestLake } from './support/project.js';

// Endpoints of a fixed response shape (seed 000's analytics API): a row's JSON column as the whole body, and the
// distinct values of a column.
const summarySchema = {
  type: 'object',
  required: ['date', 'total_factures', 'by_country'],
  properties: {
    date: { type: 'string' },
    total_factures: { type: 'integer' },
    montant_ttc_total: { type: 'number' },
    by_country: { type: 'object', additionalProperties: { type: 'object', properties: { count: { type: 'integer' }, montant_ttc_sum: { type: 'number' } } } },
  },
};

describe('document and values endpoints', () => {
  it("answer seed 000's shapes, typed in the OpenAPI document", async () => {
    const { lake } = await openTestLake({
      serve: {
        expose: ['gold.*'],
        endpoints: {
          'analytics/summary': {
            kind: 'document',
            table: 'gold.analytics',
            column: 'summary',
            params: { date: 'date' },
            latest: 'date',
            schema: summarySchema,
          },
          'analytics/dates': { kind: 'values', table: 'gold.analytics', column: 'date', field: 'dates', order: 'desc' },
        },
      },
    });
    await lake.write(
      'gold.analytics',
      `SELECT d AS date, json_object('date', d, 'total_factures', n, 'montant_ttc_total', t, 'by_country', json_object('FR', json_object('count', n, 'montant_ttc_sum', t))) AS summary
       FROM (VALUES ('2026-02-25', 1000, 123.45), ('2026-03-16', 1000, 40672359462.39)) AS v(d, n, t)`,
      { mode: 'overwrite' },
    );
    const { app } = await buildServer(lake);
    try {
      const one = await app.inject('/api/v1/analytics/summary?date=2026-02-25');
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual({
        date: '2026-02-25',
        total_factures: 1000,
        montant_ttc_total: 123.45,
        by_country: { FR: { count: 1000, montant_ttc_sum: 123.45 } },
      });
      // No date: the latest.
      expect((await app.inject('/api/v1/analytics/summary')).json()).toMatchObject({ date: '2026-03-16', montant_ttc_total: 40672359462.39 });
      const missing = await app.inject('/api/v1/analytics/summary?date=1999-01-01');
      expect(missing.statusCode).toBe(404);
      expect(missing.body).toContain('gold.analytics has no row with date = 1999-01-01');
      expect((await app.inject('/api/v1/analytics/summary?day=x')).statusCode).toBe(400);
      expect((await app.inject('/api/v1/analytics/dates')).json()).toEqual({ dates: ['2026-03-16', '2026-02-25'] });
      const openapi = (await app.inject('/openapi.json')).json() as {
        paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }>;
      };
      expect(openapi.paths['/api/v1/analytics/summary']!.get.responses['200']!.content['application/json']!.schema).toMatchObject({
        required: ['date', 'total_factures', 'by_country'],
      });
    } finally {
      await app.close();
    }
  });

  it('names a column the table does not have, at startup', async () => {
    const { lake } = await openTestLake({
      serve: { expose: ['gold.*'], endpoints: { s: { kind: 'document', table: 'gold.t', column: 'nope' } } },
    });
    await lake.write('gold.t', 'SELECT 1 AS a', { mode: 'overwrite' });
    await expect(buildServer(lake)).rejects.toThrow(/serve\.endpoints\.s\.column: gold\.t has no column "nope"/);
  });
});
