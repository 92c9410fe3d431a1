import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { produceFile } from '../src/produce/produce.js';
import { createSerde, registerSerde, unregisterSerde, type Serde, type SerdeFactory } from '../src/serdes/index.js';
import { listDeadLetters } from '../src/streams/dead-letters.js';
import { runStream } from '../src/streams/worker.js';
import { tempDir } from './support/helpers.js';

// The recipe of docs/architecture.md, "Adding a format": a serde factory with its options' schema, registered with
// one line. This one reads and writes `a|b|c` lines, fields named by its options, numbers as numbers.

let prepared = 0;
const pipe: SerdeFactory<{ kind: 'pipe'; fields: string[] }> = {
  kind: 'pipe',
  schema: z.strictObject({ kind: z.literal('pipe'), fields: z.array(z.string().min(1)).min(1) }),
  create: ({ fields }): Serde => ({
    kind: 'pipe',
    decode(bytes) {
      const parts = bytes.toString('utf8').split('|');
      if (parts.length !== fields.length) throw new Error(`expected ${fields.length} fields separated by |, got ${parts.length}`);
      return Object.fromEntries(fields.map((f, i) => [f, /^-?\d+(\.\d+)?$/.test(parts[i]!) ? Number(parts[i]) : parts[i]]));
    },
    encode: (value) => Buffer.from(fields.map((f) => String((value as Record<string, unknown>)[f] ?? '')).join('|')),
    fromText: (line) => Buffer.from(line),
    // Where a schema registry client would fetch schemas: awaited before each batch.
    prepare: async () => {
      prepared++;
    },
  }),
};

beforeAll(() => registerSerde(pipe));
afterAll(() => unregisterSerde('pipe'));

describe('a format added outside the tree (the recipe)', () => {
  it('checks its options where the format is named', () => {
    expect(() => createSerde({ kind: 'pipe', fields: [] }, 'streams.s.format')).toThrow(/streams\.s\.format\.fields: Too small/);
    expect(() => createSerde('pype', 'streams.s.format')).toThrow(/streams\.s\.format: unknown format "pype"/);
  });

  it('decodes a stream, sends what it cannot decode to the DLQ, and encodes the output topic', async () => {
    const dir = tempDir('trib-serde-');
    const config = resolveConfig(
      {
        streams: {
          sales: {
            topic: 'sales',
            format: { kind: 'pipe', fields: ['id', 'event_time', 'pays', 'montant'] },
            fields: { id: 'string', event_time: 'timestamp', pays: 'string', montant: 'number' },
            eventTime: 'event_time',
            watermark: '0s',
            eventTimeLimits: { maxAhead: false },
            outputs: {
              'gold.sales_by_country': {
                window: { kind: 'tumbling', size: '1m' },
                groupBy: ['pays'],
                aggregates: { total: { fn: 'sum', field: 'montant' } },
                topic: 'sales-by-country',
                format: { kind: 'pipe', fields: ['window_start', 'pays', 'total'] },
              },
            },
          },
        },
      },
      dir,
      undefined,
    );
    const file = path.join(dir, 'sales.txt');
    writeFileSync(
      file,
      [
        'a1|2026-01-01T10:00:05Z|France|10',
        'a2|2026-01-01T10:00:30Z|France|5.5',
        'a3|2026-01-01T10:00:40Z|Spain|7',
        'garbage',
        'a4|2026-01-01T10:02:00Z|Spain|1',
      ].join('\n'),
    );
    const log = new EmbeddedLog(config.log.kind === 'embedded' ? config.log.path : '');
    await log.createTopic('sales', 1);
    expect((await produceFile(log, 'sales', file, { format: createSerde({ kind: 'pipe', fields: ['x'] }, 'test') })).sent).toBe(5);

    const report = await runStream(config, 'sales', { availableNow: true });
    expect(report).toMatchObject({ records: 5, deadLetters: 1 });
    expect(prepared).toBeGreaterThan(0);
    const lake = await Lake.open(config);
    try {
      const rows = (await lake.query('SELECT pays, total FROM gold.sales_by_country ORDER BY window_start, pays')).rows;
      expect(rows).toEqual([
        { pays: 'France', total: 15.5 },
        { pays: 'Spain', total: 7 },
      ]);
    } finally {
      await lake.close();
    }
    const [dead] = await listDeadLetters(config, 'sales');
    expect(dead).toMatchObject({ errorCode: 'unparseable', payloadText: 'garbage' });
    expect(String(dead!.error)).toMatch(/expected 4 fields separated by \|, got 1/);

    const reader = await log.reader('sales-by-country', new Map([[0, 0]]));
    const out = (await reader.poll({ maxRecords: 10, maxWaitMs: 500 })).map((r) => r.value?.toString('utf8'));
    await reader.close();
    expect(out).toEqual(['2026-01-01T10:00:00.000Z|France|15.5', '2026-01-01T10:00:00.000Z|Spain|7']);
  });
});
