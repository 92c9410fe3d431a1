import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { TributaryConfig } from '../src/config/types.js';
import { openLog } from '../src/log/open.js';
import { runBuild } from '../src/orchestration/build.js';
import { publishTable } from '../src/publish/publish.js';
import { runStream } from '../src/streams/worker.js';
import { cli, tempDir } from './support/helpers.js';
import { openTestLake, rows } from './support/project.js';

// Publishing a lake table to a topic (publish:<name>), and a stream without outputs that lands what it consumes:
// seed 000's enriched invoices sent to `factures-enriched` and kept in a streaming zone.
const config: TributaryConfig = {
  publish: { enriched: { table: 'silver.factures', topic: 'factures-enriched', key: 'id_facture', partitions: 2 } },
  streams: {
    consumer: {
      topic: 'factures-enriched',
      eventTime: 'date_facture',
      watermark: '1d',
      eventTimeLimits: { maxAhead: false },
      landing: 'bronze.factures_stream',
    },
  },
};

async function records(lake: Awaited<ReturnType<typeof openTestLake>>['lake'], topic = 'factures-enriched', partitions = [0, 1]) {
  const log = await openLog(lake.config.log);
  try {
    const out: { key: string | null; value: Record<string, unknown>; snapshot: string | undefined }[] = [];
    for (const partition of partitions) {
      const reader = await log.reader(topic, new Map([[partition, 0]]));
      for (const r of await reader.poll({ maxRecords: 1000, maxWaitMs: 10 }))
        out.push({ key: r.key?.toString() ?? null, value: JSON.parse(r.value!.toString()), snapshot: r.headers['tributary-snapshot'] });
      await reader.close();
    }
    return out.sort((a, b) => String(a.key).localeCompare(String(b.key)));
  } finally {
    await log.close();
  }
}

describe('publish a table to a topic', () => {
  it('sends a snapshot once, then only the rows later snapshots add, keyed, with their snapshot in a header', async () => {
    const { lake } = await openTestLake(config);
    const invoices = (ids: number[]) =>
      ids
        .map((i) => `SELECT 'F-${i}' AS id_facture, DATE '2026-02-25' AS date_facture, CAST(${i}.50 AS DECIMAL(10,2)) AS montant_ttc, 'FR' AS pays`)
        .join(' UNION ALL ');
    await lake.write('silver.factures', invoices([1, 2, 3]), { mode: 'append' });
    expect(await publishTable(lake, 'enriched')).toMatchObject({ sent: 3, snapshot: 1, selection: 'whole snapshot' });
    expect(await publishTable(lake, 'enriched')).toMatchObject({ sent: 0, selection: 'already published' });
    await lake.write('silver.factures', invoices([4]), { mode: 'append' });
    expect(await publishTable(lake, 'enriched')).toMatchObject({ sent: 1, selection: 'files added since snapshot 1' });
    // Rewritten (a model's full refresh) with one row more: only that row goes.
    await lake.write('silver.factures', invoices([1, 2, 3, 4, 5]), { mode: 'overwrite' });
    expect(await publishTable(lake, 'enriched')).toMatchObject({ sent: 1, selection: 'rows not in snapshot 2' });
    const sent = await records(lake);
    expect(sent.map((r) => [r.key, r.snapshot])).toEqual([
      ['F-1', '1'],
      ['F-2', '1'],
      ['F-3', '1'],
      ['F-4', '2'],
      ['F-5', '3'],
    ]);
    expect(sent[0]!.value).toEqual({ id_facture: 'F-1', date_facture: '2026-02-25', montant_ttc: 1.5, pays: 'FR' });

    // As assets: a published snapshot sends nothing again; the consumer lands every record once.
    const build = await runBuild(lake, { select: ['publish:*', 'stream:consumer'] });
    expect(build.assets.map((a) => [a.asset, a.status, a.detail])).toEqual([
      ['publish:enriched', 'success', '0 record(s) sent'],
      ['stream:consumer', 'success', expect.any(String)],
    ]);
    await runStream(lake.config, 'consumer', { availableNow: true });
    const landed = await rows(lake, `SELECT json(decode(value)) ->> 'id_facture' AS id FROM bronze.factures_stream ORDER BY id`);
    expect(landed.map((r) => r.id)).toEqual(['F-1', 'F-2', 'F-3', 'F-4', 'F-5']);
  });

  it('goes on after the table gains or reorders columns, and publishes a table with a column named t', async () => {
    const { lake } = await openTestLake({ publish: { p: { table: 'silver.items', topic: 'items', key: 'id' } } });
    await lake.write('silver.items', "SELECT 1 AS id, 'a' AS t", { mode: 'append' });
    expect(await publishTable(lake, 'p')).toMatchObject({ sent: 1 });
    // Rewritten with its columns reordered: nothing new.
    await lake.write('silver.items', "SELECT 'a' AS t, 1 AS id", { mode: 'overwrite' });
    expect(await publishTable(lake, 'p')).toMatchObject({ sent: 0, selection: 'rows not in snapshot 1' });
    // A column added, and a row: the row, and the old row again (it changed: its new column now has a value).
    await lake.write('silver.items', "SELECT 1 AS id, 'a' AS t, 'x' AS extra UNION ALL SELECT 2, 'b', 'y'", { mode: 'overwrite' });
    expect(await publishTable(lake, 'p')).toMatchObject({ sent: 2 });
    const values = (await records(lake, 'items', [0])).map((r) => r.value);
    expect(values).toEqual([
      { id: 1, t: 'a' },
      { id: 1, t: 'a', extra: 'x' },
      { id: 2, t: 'b', extra: 'y' },
    ]);
  });

  it('names a key column the table does not have, and a stream that would keep nothing', async () => {
    const { lake } = await openTestLake({ publish: { bad: { table: 'silver.t', topic: 'bad', key: 'nope' } } });
    await lake.write('silver.t', 'SELECT 1 AS a', { mode: 'append' });
    await expect(publishTable(lake, 'bad')).rejects.toThrow(/publish\.bad\.key: silver\.t has no column "nope"/);
    await expect(
      openTestLake({ streams: { s: { topic: 't', eventTime: 'at', watermark: '1s', landing: false } } }).then(async ({ lake: l }) => runStream(l.config, 's')),
    ).rejects.toThrow(/streams\.s: no outputs and no landing table: the stream would keep nothing/);
  });
});

describe('publish to Kafka', () => {
  it('sends the rows to a real broker, keyed, with their headers', async () => {
    const topic = `published-${process.pid}-${Date.now() % 100000}`;
    const { lake } = await openTestLake({ publish: { p: { table: 'gold.kpis', topic, key: 'pays' } } });
    lake.config.log = { kind: 'kafka', brokers: [inject('kafkaBootstrap')] };
    await lake.write('gold.kpis', "SELECT 'FR' AS pays, 12 AS n UNION ALL SELECT 'DE', 7", { mode: 'append' });
    expect(await publishTable(lake, 'p')).toMatchObject({ sent: 2 });
    const log = await openLog(lake.config.log);
    try {
      const reader = await log.reader(topic, new Map([[0, 0]]));
      const got: string[] = [];
      for (let i = 0; i < 50 && got.length < 2; i++) {
        for (const r of await reader.poll({ maxWaitMs: 200 })) got.push(`${r.key} ${r.value} ${r.headers['tributary-table']}`);
      }
      await reader.close();
      expect(got.sort()).toEqual(['DE {"pays":"DE","n":7} gold.kpis', 'FR {"pays":"FR","n":12} gold.kpis']);
    } finally {
      await log.close();
    }
  });
});

describe('tributary publish', () => {
  it('publishes from the command line, and says so when there is nothing new', { timeout: 60_000 }, async () => {
    const dir = tempDir('trib-publish-cli-');
    mkdirSync(path.join(dir, 'in'));
    writeFileSync(path.join(dir, 'in', 'a.csv'), 'id,v\n1,x\n2,y\n');
    writeFileSync(
      path.join(dir, 'tributary.config.mjs'),
      "export default { sources: { a: { kind: 'files', glob: 'in/*.csv', into: 'bronze.a' } }, publish: { a: { table: 'bronze.a', topic: 'a-rows', key: 'id' } } };\n",
    );
    expect((await cli(['ingest', '--project', dir])).code).toBe(0);
    const first = await cli(['publish', '--json', '--project', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject([{ publication: 'a', topic: 'a-rows', sent: 2, selection: 'whole snapshot' }]);
    const second = await cli(['publish', 'a', '--project', dir]);
    expect(second.stdout).toMatch(/a\s+│?\s*bronze\.a.*already published/);
    const unknown = await cli(['publish', 'nope', '--project', dir]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/no publication "nope"/);
  });
});
