import Fastify from 'fastify';
import { Type } from 'typebox';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { obj, text, typed } from '../src/serve/schema-parts.js';

// The routes' types come from their schemas (the TypeBox type provider): what a handler reads from the query and
// what it must return are the documented schemas' types, so a response that drifts from its OpenAPI fails `tsc`.
describe('route types', () => {
  const app = typed(Fastify());
  afterAll(() => app.close());

  it('are inferred from the route schemas: parameters in, the response out', async () => {
    app.get(
      '/typed',
      {
        schema: {
          querystring: Type.Object({ n: Type.Integer(), tag: Type.Optional(Type.String()) }),
          response: { 200: obj({ doubled: Type.Integer(), tag: text }) },
        },
      },
      async (request) => {
        expectTypeOf(request.query.n).toEqualTypeOf<number>();
        expectTypeOf(request.query.tag).toEqualTypeOf<string | undefined>();
        return { doubled: request.query.n * 2, tag: request.query.tag ?? 'none' };
      },
    );
    app.get(
      '/drifts',
      { schema: { response: { 200: obj({ doubled: Type.Integer() }) } } },
      // @ts-expect-error a handler returning another shape than its response schema does not compile
      async () => ({ doubled: 'two' }),
    );
    const ok = await app.inject('/typed?n=21');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ doubled: 42, tag: 'none' });
    // The same schema validates at run time: the coerced integer, and a refusal naming the parameter.
    const bad = await app.inject('/typed?n=abc');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/querystring\/n must be integer/);
  });
});
