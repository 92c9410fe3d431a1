import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { TributaryError } from '../src/errors.js';
import { runIngest } from '../src/ingest/run.js';
import { quoteLiteral } from '../src/engine/sql.js';
import { freshnessCheck } from '../src/orchestration/freshness.js';
import { runBuild } from '../src/orchestration/build.js';
import { appendBatches, type SourceBatch } from '../src/sources/batches.js';
import type { SourceConnector } from '../src/sources/connector.js';
import { registerSourceKind, unregisterSourceKind } from '../src/sources/registry.js';
import { type MemorySourceConfig, memorySourceSchema } from './support/extension-types.js';
import { openTestLake, rows } from './support/project.js';

// The recipe of docs/architecture.md, "Adding a source kind": a connector with its schema, registered with one line.
// This one reads an in-memory table by an increasing id (what a SQL source does with a cursor column), in batches.

// Its config type joins SourceKinds (test/support/extension-types.ts), so defineConfig type-checks `{ kind: 'memory', … }`.
const TABLES = new Map<string, { id: number; value: string }[]>();

const memory: SourceConnector<MemorySourceConfig> = {
  kind: 'memory',
  schema: memorySourceSchema,
  async plan(ctx, config) {
    const cursor = ((await ctx.lake.catalog.sourceStates.get(ctx.name))?.state as { id: number } | undefined)?.id ?? 0;
    const pending = (TABLES.get(config.table) ?? []).filter((r) => r.id > cursor).length;
    return { upToDate: pending === 0, summary: `${pending} row(s) past id ${cursor}`, warnings: [] };
  },
  ingest(ctx, config) {
    return appendBatches(ctx, config, async function* (state): AsyncIterable<SourceBatch> {
      let cursor = (state as { id: number } | undefined)?.id ?? 0;
      for (;;) {
        const next = (TABLES.get(config.table) ?? []).filter((r) => r.id > cursor).slice(0, config.batchSize ?? 100);
        if (next.length === 0) return;
        const values = next.map((r) => `(${r.id}, ${quoteLiteral(r.value)})`).join(', ');
        yield { select: `SELECT * FROM (VALUES ${values}) AS t(id, value)`, state: { id: next.at(-1)!.id }, describe: `rows with id > ${cursor}` };
        cursor = next.at(-1)!.id;
      }
    });
  },
};

beforeAll(() => registerSourceKind(memory));
afterAll(() => unregisterSourceKind('memory'));

const config = { sources: { events: { kind: 'memory', into: 'bronze.events', table: 'events', batchSize: 2 } } };

describe('a source kind added outside the tree (the recipe)', () => {
  it('validates its config with its own schema, and an unknown kind is named with the nearest', async () => {
    expect(() => resolveConfig({ sources: { e: { kind: 'memory', into: 'bronze.e', table: 't', batchSize: 0 } } }, '/tmp', undefined)).toThrow(
      /sources\.e\.batchSize: Too small/,
    );
    expect(() => resolveConfig({ sources: { e: { kind: 'memroy', into: 'bronze.e' } } }, '/tmp', undefined)).toThrow(
      /sources\.e\.kind: unknown source kind "memroy" \(did you mean "memory"\? kinds: documents, files, http, memory, sql\)/,
    );
  });

  it('ingests rows past its cursor exactly once, in batches committed with their state', async () => {
    TABLES.set(
      'events',
      [1, 2, 3].map((id) => ({ id, value: `v${id}` })),
    );
    const { lake } = await openTestLake(config as never);
    const first = await runIngest(lake);
    expect(first.sources[0]).toMatchObject({ source: 'events', table: 'bronze.events', rows: 3, discovered: 2 });
    expect(first.sources[0]!.ingested.map((b) => b.path)).toEqual(['rows with id > 0', 'rows with id > 2']);
    expect(await lake.catalog.sourceStates.get('events')).toMatchObject({ version: 2, state: { id: 3 } });

    // Nothing new: nothing committed; new rows: only they are read.
    expect((await runIngest(lake)).sources[0]!.rows).toBe(0);
    TABLES.get('events')!.push({ id: 4, value: 'v4' }, { id: 5, value: 'v5' });
    expect((await runIngest(lake)).sources[0]!.rows).toBe(2);
    expect(await rows(lake, 'SELECT id, value, _source FROM bronze.events ORDER BY id')).toEqual(
      [1, 2, 3, 4, 5].map((id) => ({ id, value: `v${id}`, _source: 'events' })),
    );
  });

  it('two runs from the same state cannot both commit: the second loses with COMMIT_CONFLICT and adds nothing', async () => {
    TABLES.set('race', [{ id: 1, value: 'a' }]);
    const { lake } = await openTestLake({ sources: { race: { kind: 'memory', into: 'bronze.race', table: 'race' } } } as never);
    const source = lake.config.sources.race!;
    // Both read the state before either commits.
    const slow: SourceConnector<MemorySourceConfig> = {
      ...memory,
      ingest: (ctx, c) =>
        appendBatches(ctx, c, async function* () {
          await new Promise((r) => setTimeout(r, 50));
          yield { select: `SELECT 1 AS id, 'a' AS value`, state: { id: 1 }, describe: 'rows with id > 0' };
        }),
    };
    const outcomes = await Promise.allSettled([0, 1].map(() => slow.ingest({ lake, name: 'race' }, source as MemorySourceConfig)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(TributaryError);
    expect((lost.reason as TributaryError).code).toBe('COMMIT_CONFLICT');
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.race')).toEqual([{ n: 1 }]);
  });

  it('runs through the real pipeline: a freshness test for workers, and `build` with a model over it', async () => {
    TABLES.set(
      'events',
      [1, 2, 3].map((id) => ({ id, value: `v${id}` })),
    );
    const { lake, write } = await openTestLake(config as never);
    write('models/silver/events.sql', 'SELECT id, upper(value) AS value FROM bronze.events');
    const freshness = await freshnessCheck(lake);
    try {
      expect(await freshness.isFresh('source:events')).toBeUndefined();
      const built = await runBuild(lake);
      expect(built.status).toBe('success');
      // The build's summary counts in the connector's unit: batches, not files.
      expect(built.assets.find((a) => a.asset === 'source:events')?.detail).toMatch(/^\d+ batch\(s\) ingested/);
      expect(await rows(lake, 'SELECT id, value FROM silver.events ORDER BY id')).toEqual([1, 2, 3].map((id) => ({ id, value: `V${id}` })));
      expect(await freshness.isFresh('source:events')).toBe('0 row(s) past id 3');
    } finally {
      freshness.close();
    }
  });
});
