import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/catalog.js';
import { openCatalog } from '../src/catalog/open.js';
import type { CatalogLocation } from '../src/config/types.js';
import { pgCatalog, runTs, tempDir } from './support/helpers.js';

const backends: [string, () => CatalogLocation][] = [
  ['embedded (DuckDB file)', () => ({ kind: 'embedded', path: path.join(tempDir(), 'catalog.duckdb') })],
  ['PostgreSQL', () => pgCatalog()],
];

const schema = [{ name: 'id', type: 'BIGINT' }];
const file = (p: string, rows = 10) => ({ path: p, rowCount: rows, sizeBytes: rows * 8 });

describe.each(backends)('catalog on %s', (_name, location) => {
  const where = location();
  const withCatalog = async <T>(fn: (c: Catalog) => Promise<T>): Promise<T> => {
    const catalog = await openCatalog(where);
    try {
      return await fn(catalog);
    } finally {
      await catalog.close();
    }
  };

  it('migrates idempotently', async () => {
    await withCatalog(async () => undefined);
    await withCatalog(async (c) => expect(await c.listTables()).toEqual([]));
  });

  it('commits appends and overwrites as numbered snapshots, and resolves files per snapshot', async () => {
    await withCatalog(async (c) => {
      const r1 = await c.commit({ changes: [{ table: 'bronze.a', operation: 'append', addFiles: [file('a/1.parquet')], schema }] });
      const r2 = await c.commit({ changes: [{ table: 'bronze.a', operation: 'append', addFiles: [file('a/2.parquet', 5)], schema }] });
      const r3 = await c.commit({ changes: [{ table: 'bronze.a', operation: 'overwrite', addFiles: [file('a/3.parquet', 7)], removeFiles: 'all', schema }] });
      expect([r1.snapshots['bronze.a'], r2.snapshots['bronze.a'], r3.snapshots['bronze.a']]).toEqual([1, 2, 3]);
      const s2 = await c.resolveSnapshot('bronze.a', { snapshotId: 2 });
      expect(s2!.files.map((f) => f.path)).toEqual(['a/1.parquet', 'a/2.parquet']);
      expect(s2!.snapshot.rowCount).toBe(15);
      const now = await c.resolveSnapshot('bronze.a');
      expect(now!.files.map((f) => f.path)).toEqual(['a/3.parquet']);
      const table = await c.getTable('bronze.a');
      expect(table).toMatchObject({ currentSnapshot: 3, rowCount: 7, fileCount: 1, layer: 'bronze', table: 'a' });
      const history = await c.history('bronze.a');
      expect(history.map((h) => [h.snapshotId, h.operation])).toEqual([
        [3, 'overwrite'],
        [2, 'append'],
        [1, 'append'],
      ]);
      // Snapshot times never go backwards, so time travel by timestamp is well defined.
      const times = history.map((h) => h.committedAt.getTime()).reverse();
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      const byTime = await c.resolveSnapshot('bronze.a', { timestamp: history[1]!.committedAt });
      expect(byTime!.snapshot.snapshotId).toBe(2);
    });
  });

  it('refuses a commit whose expectations no longer hold', async () => {
    await withCatalog(async (c) => {
      await c.commit({ changes: [{ table: 'bronze.b', operation: 'append', addFiles: [file('b/1.parquet')], schema }] });
      await expect(
        c.commit({
          changes: [{ table: 'bronze.b', operation: 'overwrite', addFiles: [file('b/2.parquet')], removeFiles: 'all', expectedSnapshot: 0, schema }],
        }),
      ).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });
      await expect(
        c.commit({ changes: [{ table: 'bronze.b', operation: 'compact', addFiles: [file('b/3.parquet')], removeFiles: ['b/missing.parquet'], schema }] }),
      ).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });
      // Nothing of the failed commits is visible.
      expect((await c.getTable('bronze.b'))!.currentSnapshot).toBe(1);
      expect((await c.resolveSnapshot('bronze.b'))!.files.map((f) => f.path)).toEqual(['b/1.parquet']);
    });
  });

  it('commits several tables and ingestion records atomically; a duplicate record rolls everything back', async () => {
    await withCatalog(async (c) => {
      const record = {
        source: 's',
        fileHash: 'h1',
        path: 'x.csv',
        sizeBytes: 3,
        table: 'bronze.c',
        batchId: 'b1',
        ingestedAt: new Date(),
        rowCount: 10,
        rejectedRows: 1,
      };
      await c.commit({
        runId: 'r1',
        changes: [
          { table: 'bronze.c', operation: 'append', addFiles: [file('c/1.parquet')], schema },
          { table: 'bronze.c_rejects', operation: 'append', addFiles: [file('cr/1.parquet', 1)], schema },
        ],
        parts: [c.ingestion.record([record])],
      });
      expect([...(await c.ingestion.hashes('s'))]).toEqual(['h1']);
      await expect(
        c.commit({
          changes: [{ table: 'bronze.c', operation: 'append', addFiles: [file('c/2.parquet')], schema }],
          parts: [c.ingestion.record([{ ...record, batchId: 'b2' }])],
        }),
      ).rejects.toMatchObject({ code: 'ALREADY_INGESTED' });
      expect((await c.getTable('bronze.c'))!.currentSnapshot).toBe(1);
      expect((await c.ingestion.files('s'))[0]).toMatchObject({ path: 'x.csv', snapshotId: 1, runId: 'r1', rowCount: 10, rejectedRows: 1 });
    });
  });

  it('keeps quarantine entries, one per content, until resolved or superseded', async () => {
    await withCatalog(async (c) => {
      const q = { source: 'q', path: 'bad.csv', fileHash: 'hq', table: 'bronze.q', reasonCode: 'empty_file', reason: 'empty' };
      const first = await c.quarantine.add(q);
      const again = await c.quarantine.add(q);
      expect(again.id).toBe(first.id);
      expect((await c.quarantine.list()).filter((e) => e.source === 'q')).toHaveLength(1);
      expect((await c.quarantine.openHashes('q')).get('hq')).toBe(first.id);
      // A good version of the same path supersedes the entry.
      await c.commit({
        changes: [{ table: 'bronze.q', operation: 'append', addFiles: [file('q/1.parquet')], schema }],
        parts: [
          c.ingestion.record([
            {
              source: 'q',
              fileHash: 'hq2',
              path: 'bad.csv',
              sizeBytes: 1,
              table: 'bronze.q',
              batchId: 'b',
              ingestedAt: new Date(),
              rowCount: 1,
              rejectedRows: 0,
            },
          ]),
        ],
      });
      expect((await c.quarantine.get(first.id)).status).toBe('superseded');
      expect((await c.quarantine.list({ all: true })).some((e) => e.id === first.id)).toBe(true);
      await expect(c.quarantine.get(9999)).rejects.toMatchObject({ code: 'QUARANTINE_NOT_FOUND' });
    });
  });

  it('records runs', async () => {
    await withCatalog(async (c) => {
      await c.runs.start('run-1', 'ingest');
      await c.runs.finish('run-1', 'success', { files: 2 });
      const [run] = await c.runs.list({ limit: 1 });
      expect(run).toMatchObject({ runId: 'run-1', kind: 'ingest', status: 'success', summary: { files: 2 } });
      expect(run!.finishedAt).toBeInstanceOf(Date);
    });
  });

  it('expires snapshots and returns only files no retained snapshot needs', async () => {
    await withCatalog(async (c) => {
      await c.commit({ changes: [{ table: 'bronze.v', operation: 'append', addFiles: [file('v/1.parquet')], schema }] });
      await c.commit({ changes: [{ table: 'bronze.v', operation: 'overwrite', addFiles: [file('v/2.parquet')], removeFiles: 'all', schema }] });
      await c.commit({ changes: [{ table: 'bronze.v', operation: 'append', addFiles: [file('v/3.parquet')], schema }] });
      expect(await c.expireSnapshots('bronze.v', 3)).toEqual(['v/1.parquet']);
      await expect(c.resolveSnapshot('bronze.v', { snapshotId: 1 })).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
      expect((await c.resolveSnapshot('bronze.v'))!.files.map((f) => f.path)).toEqual(['v/2.parquet', 'v/3.parquet']);
      expect([...(await c.knownFilePaths())].filter((p) => p.startsWith('v/')).sort()).toEqual(['v/2.parquet', 'v/3.parquet']);
    });
  });

  it('lists the files a table gained between two snapshots, and says when it was rewritten', async () => {
    await withCatalog(async (c) => {
      for (const n of [1, 2, 3]) await c.commit({ changes: [{ table: 'bronze.g', operation: 'append', addFiles: [file(`g/${n}.parquet`)], schema }] });
      const gained = await c.filesAddedSince('bronze.g', 1, 2);
      expect(gained).toMatchObject({ rewritten: false, files: [{ path: 'g/2.parquet' }] }); // snapshot 3 is left for later
      await c.commit({
        changes: [{ table: 'bronze.g', operation: 'compact', addFiles: [file('g/c.parquet', 20)], removeFiles: ['g/1.parquet', 'g/2.parquet'], schema }],
      });
      expect((await c.filesAddedSince('bronze.g', 3, 4)).rewritten).toBe(true);
      expect((await c.filesAddedSince('bronze.g', 1, 3)).rewritten).toBe(false);
    });
  });

  it('two processes appending to one table at once lose no commit', async () => {
    const commits = 15;
    const args = [JSON.stringify(where), 'bronze.race', String(commits)];
    const [a, b] = await Promise.all([runTs('test/fixtures/append-loop.ts', [...args, 'A']), runTs('test/fixtures/append-loop.ts', [...args, 'B'])]);
    expect(a.stderr + b.stderr).toBe('');
    expect([a.code, b.code]).toEqual([0, 0]);
    await withCatalog(async (c) => {
      const history = await c.history('bronze.race');
      expect(history.map((h) => h.snapshotId)).toEqual(Array.from({ length: 2 * commits }, (_, i) => 2 * commits - i));
      const current = await c.resolveSnapshot('bronze.race');
      expect(current!.files).toHaveLength(2 * commits);
      expect(current!.snapshot.rowCount).toBe(2 * commits);
      // Every snapshot is its parent plus exactly one file.
      for (const h of history) expect(h.fileCount).toBe(h.snapshotId);
    });
  });
});
