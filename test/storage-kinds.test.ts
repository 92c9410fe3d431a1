import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest } from '../src/ingest/run.js';
import { runModels } from '../src/models/run.js';
import { registerStorage, unregisterStorage, type Storage, type StoredObject } from '../src/storage/index.js';
import { openTestLake, rows } from './support/project.js';

// The recipe of docs/architecture.md, "Adding a storage backend": a Storage and one registerStorage line. This one
// keeps objects in memory, the way an object store keeps them remote: DuckDB writes to a staging folder, `finalize`
// "uploads", and `prepareRead` puts a cached copy where DuckDB reads. An S3 adapter has the same shape.

const STORES = new Map<string, Map<string, { bytes: Buffer; modifiedAt: Date }>>();

class MemoryStorage implements Storage {
  readonly objects: Map<string, { bytes: Buffer; modifiedAt: Date }>;
  private readonly staging: string;
  private readonly cache: string;

  constructor(
    readonly root: string,
    scratch: string,
  ) {
    this.objects = STORES.get(root) ?? new Map();
    STORES.set(root, this.objects);
    this.staging = path.join(scratch, 'staging');
    this.cache = path.join(scratch, 'cache');
  }

  writePath(key: string): string {
    return path.join(this.staging, key);
  }

  keyOf(writtenPath: string): string {
    const base = writtenPath.startsWith(this.staging) ? this.staging : this.cache;
    return path.relative(base, writtenPath).split(path.sep).join('/');
  }

  async prepareWrite(target: string): Promise<void> {
    await mkdir(target.endsWith('.parquet') ? path.dirname(target) : target, { recursive: true });
  }

  async finalize(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const staged = this.writePath(key);
      this.objects.set(key, { bytes: await readFile(staged), modifiedAt: new Date() });
      await mkdir(path.dirname(this.readPath(key)), { recursive: true });
      await rename(staged, this.readPath(key));
    }
  }

  readPath(key: string): string {
    return path.join(this.cache, key);
  }

  async prepareRead(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const cached = this.readPath(key);
      if (existsSync(cached)) continue;
      const object = this.objects.get(key);
      if (!object) throw new Error(`mem: no object ${key} in ${this.root}`);
      await mkdir(path.dirname(cached), { recursive: true });
      await writeFile(cached, object.bytes);
    }
  }

  async putFile(localPath: string, key: string): Promise<void> {
    this.objects.set(key, { bytes: await readFile(localPath), modifiedAt: new Date() });
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(key, { bytes: Buffer.from(bytes), modifiedAt: new Date() });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.bytes;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const [key, o] of [...this.objects]) if (key.startsWith(prefix)) yield { key, sizeBytes: o.bytes.length, modifiedAt: o.modifiedAt };
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.objects.delete(key);
      await rm(this.readPath(key), { force: true });
      await rm(this.writePath(key), { force: true, recursive: true });
    }
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const o = this.objects.get(key);
    return o ? { key, sizeBytes: o.bytes.length, modifiedAt: o.modifiedAt } : undefined;
  }
}

beforeAll(() => registerStorage('mem', async (location, { localDir }) => new MemoryStorage(location, localDir)));
afterAll(() => unregisterStorage('mem'));

describe('a storage backend added outside the tree (the recipe)', () => {
  it('holds a whole lake: ingestion, models, time travel, compaction and vacuum, with no lake folder on disk', async () => {
    const { lake, write, dir } = await openTestLake({
      lake: { path: 'mem://shop' },
      sources: { sales: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales' } },
    });
    write('in/a.csv', 'id,amount\n1,10\n2,20\n');
    write('models/gold/total.sql', 'SELECT sum(amount) AS total, count(*) AS n FROM bronze.sales');
    await runIngest(lake);
    write('in/b.csv', 'id,amount\n3,30\n');
    await runIngest(lake);
    expect((await runModels(lake)).status).toBe('success');
    expect(await rows(lake, 'SELECT total, n FROM gold.total')).toEqual([{ total: 60, n: 3 }]);
    expect((await lake.query('SELECT count(*) AS n FROM bronze.sales', { asOf: { snapshotId: 1 } })).rows).toEqual([{ n: 2n }]);

    const objects = STORES.get('mem://shop')!;
    expect([...objects.keys()].filter((k) => k.startsWith('bronze/sales/data/') && k.endsWith('.parquet'))).toHaveLength(2);
    expect(existsSync(path.join(dir, 'lake'))).toBe(false);

    // Compaction reads through prepareRead and writes through the staging folder; the old files go at vacuum.
    const compacted = await lake.compact('bronze.sales');
    expect(compacted).toMatchObject({ filesBefore: 2, filesAfter: 1 });
    await lake.vacuum({ snapshotDays: 0, keepLast: 1, orphanMinutes: 0 });
    expect([...objects.keys()].filter((k) => k.startsWith('bronze/sales/data/') && k.endsWith('.parquet'))).toHaveLength(1);
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.sales')).toEqual([{ n: 3 }]);
  });

  it('names the location when no storage is registered for its scheme', async () => {
    await expect(openTestLake({ lake: { path: 'nope://x' } })).rejects.toThrow(/lake\.path: no storage for "nope:\/\/" locations \(nope:\/\/x\)/);
  });
});
