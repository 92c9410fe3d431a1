import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { z } from 'zod';
import { TributaryError, errorMessage } from '../../errors.js';
import { processAlive } from '../../util/process.js';
import { registerBuiltInStorage, type Storage, type StoredObject } from '../storage.js';

/**
 * An S3-compatible object store as the lake (`lake.path: 's3://bucket/prefix'`), with the AWS SDK v3 — without
 * DuckDB's httpfs (which cannot be downloaded everywhere): DuckDB writes to a local staging folder and reads from a
 * local cache, and this adapter moves the bytes.
 *
 * - Writes: `writePath` is a staging path; `finalize` uploads each file (multipart above 16 MiB), checks the
 *   object's size against the file's, and only then the caller commits. An upload interrupted leaves nothing visible
 *   (S3 publishes an object whole, multipart parts only on completion). Object names are never reused (every write
 *   has its own id).
 * - Reads: `prepareRead` downloads the objects a query needs into the cache, once: objects never change, so a cached
 *   copy never needs invalidation. The cache is bounded (`cacheMB`, default 2048): least recently used files go first,
 *   never those of the read being prepared.
 * - Deletes go in batches of 1,000 keys (DeleteObjects).
 */
export const s3OptionsSchema = z.strictObject({
  /** An S3-compatible server's URL (MinIO, S3Mock, R2…); default: AWS. */
  endpoint: z.string().url().optional(),
  region: z.string().min(1).optional(),
  /** Path-style URLs (`endpoint/bucket/key`), as MinIO and S3Mock need. */
  forcePathStyle: z.boolean().optional(),
  /** Credentials; default: the AWS chain (environment, shared config and credentials files, profile, instance role). */
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: z.string().min(1).optional(),
  sessionToken: z.string().min(1).optional(),
  /** Local cache of downloaded objects, in MB (default 2048). */
  cacheMB: z.number().positive().optional(),
});
export type S3Options = z.infer<typeof s3OptionsSchema>;

const MULTIPART_BYTES = 16 * 1024 * 1024;
const DELETE_BATCH = 1000;
const PARALLEL = 4;

export class S3Storage implements Storage {
  readonly root: string;
  private readonly staging: string;
  private readonly cache: string;
  private readonly cacheBytes: number;
  /** Cached objects: size and last use, for LRU eviction. */
  private readonly cached = new Map<string, { size: number; used: number }>();

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    localDir: string,
    options: S3Options,
  ) {
    this.root = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.staging = path.join(localDir, '_s3', 'staging', String(process.pid));
    this.cache = path.join(localDir, '_s3', 'cache');
    this.cacheBytes = Math.round((options.cacheMB ?? 2048) * 1024 * 1024);
  }

  static async open(location: string, localDir: string, raw: unknown): Promise<S3Storage> {
    const parsed = s3OptionsSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TributaryError('CONFIG_INVALID', `lake.storage${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
    }
    const options = parsed.data;
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
    if (!match) throw new TributaryError('CONFIG_INVALID', `lake.path: ${location} is not s3://bucket[/prefix]`);
    const config: S3ClientConfig = {
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      // The SDK's default checksums on every part are not what every S3-compatible server accepts (S3Mock refuses a
      // multipart upload "created using a crc32 checksum" whose parts lack it): off a custom endpoint, only when required.
      ...(options.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
      ...(options.accessKeyId && options.secretAccessKey
        ? {
            credentials: {
              accessKeyId: options.accessKeyId,
              secretAccessKey: options.secretAccessKey,
              ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
            },
          }
        : {}),
    };
    const storage = new S3Storage(new S3Client(config), match[1]!, match[2]!.replace(/\/+$/, ''), localDir, options);
    await storage.start();
    return storage;
  }

  /** Forgets staging folders of processes that are gone (their writes were never committed), indexes the cache. */
  private async start(): Promise<void> {
    const stagingRoot = path.dirname(this.staging);
    if (existsSync(stagingRoot))
      for (const pid of readdirSync(stagingRoot))
        if (Number(pid) !== process.pid && !processAlive(Number(pid))) await rm(path.join(stagingRoot, pid), { recursive: true, force: true });
    const walk = (dir: string, rel: string) => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const abs = path.join(dir, entry.name);
        const key = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(abs, key);
        else if (!entry.name.endsWith('.part')) {
          const s = statSync(abs);
          this.cached.set(key, { size: s.size, used: s.atimeMs });
        }
      }
    };
    walk(this.cache, '');
  }

  private objectKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private fail(action: string, key: string, err: unknown): TributaryError {
    return new TributaryError('LAKE_IO', `${action} ${this.root}/${key}: ${errorMessage(err)}`, { cause: err });
  }

  writePath(key: string): string {
    return path.join(this.staging, key);
  }

  async prepareWrite(target: string): Promise<void> {
    // A partitioned write names a folder DuckDB fills; a single file needs its parent.
    await mkdir(target.endsWith('.parquet') ? path.dirname(target) : target, { recursive: true });
  }

  keyOf(writtenPath: string): string {
    const base = writtenPath.startsWith(this.staging) ? this.staging : this.cache;
    return path.relative(base, writtenPath).split(path.sep).join('/');
  }

  /** Uploads staged files, verifies each object's size, then keeps them in the cache (they are read back soon). */
  async finalize(keys: readonly string[]): Promise<void> {
    await parallel(keys, PARALLEL, async (key) => {
      const local = this.writePath(key);
      const size = (await stat(local)).size;
      await this.upload(local, key, size);
      await this.adopt(local, key, size);
    });
  }

  private async upload(local: string, key: string, size: number): Promise<void> {
    try {
      if (size > MULTIPART_BYTES) {
        await new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: this.objectKey(key), Body: createReadStream(local) },
          partSize: MULTIPART_BYTES,
        }).done();
      } else {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: createReadStream(local), ContentLength: size }));
      }
    } catch (err) {
      throw this.fail('uploading to', key, err);
    }
    const stored = await this.stat(key);
    if (stored?.sizeBytes !== size)
      throw new TributaryError(
        'LAKE_IO',
        `uploading to ${this.root}/${key}: the object has ${stored?.sizeBytes ?? 'no'} bytes, the file ${size}; nothing committed`,
      );
  }

  /** Moves a file into the cache under its key. */
  private async adopt(local: string, key: string, size: number): Promise<void> {
    const target = path.join(this.cache, key);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(local, target);
    this.cached.set(key, { size, used: Date.now() });
    await this.evict(new Set([key]));
  }

  readPath(key: string): string {
    return path.join(this.cache, key);
  }

  async prepareRead(keys: readonly string[]): Promise<void> {
    const now = Date.now();
    const missing = keys.filter((k) => {
      const entry = this.cached.get(k);
      if (entry && existsSync(this.readPath(k))) {
        entry.used = now;
        return false;
      }
      return true;
    });
    await parallel(missing, PARALLEL, (key) => this.download(key));
    await this.evict(new Set(keys));
  }

  private async download(key: string): Promise<void> {
    const target = this.readPath(key);
    const part = `${target}.${process.pid}.part`;
    await mkdir(path.dirname(target), { recursive: true });
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      await pipeline(object.Body as Readable, createWriteStream(part));
      const size = (await stat(part)).size;
      if (object.ContentLength !== undefined && size !== object.ContentLength) throw new Error(`downloaded ${size} of ${object.ContentLength} bytes`);
      await rename(part, target);
      this.cached.set(key, { size, used: Date.now() });
    } catch (err) {
      await rm(part, { force: true });
      throw this.fail('reading', key, err);
    }
  }

  /** Least recently used cached files go until the cache fits its bound; those in `keep` stay. */
  private async evict(keep: ReadonlySet<string>): Promise<void> {
    let total = 0;
    for (const e of this.cached.values()) total += e.size;
    if (total <= this.cacheBytes) return;
    for (const [key, e] of [...this.cached].sort((a, b) => a[1].used - b[1].used)) {
      if (total <= this.cacheBytes) break;
      if (keep.has(key)) continue;
      await rm(this.readPath(key), { force: true });
      this.cached.delete(key);
      total -= e.size;
    }
  }

  async putFile(localPath: string, key: string): Promise<void> {
    await this.upload(localPath, key, (await stat(localPath)).size);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: bytes, ContentLength: bytes.length }));
    } catch (err) {
      throw this.fail('writing', key, err);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return await object.Body!.transformToByteArray();
    } catch (err) {
      if (notFound(err)) return undefined;
      throw this.fail('reading', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    let token: string | undefined;
    const base = this.prefix ? `${this.prefix}/` : '';
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${base}${prefix}`, ...(token ? { ContinuationToken: token } : {}) }),
        );
      } catch (err) {
        throw this.fail('listing', prefix, err);
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key.slice(base.length), sizeBytes: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.objectKey(k) })), Quiet: true } }),
        );
        const failed = result.Errors?.filter((e) => e.Code !== 'NoSuchKey') ?? [];
        if (failed.length) throw new Error(`${failed.length} object(s) not deleted, first ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ''}`);
      } catch (err) {
        throw this.fail('deleting from', batch[0]!, err);
      }
      for (const k of batch) {
        this.cached.delete(k);
        await rm(this.readPath(k), { force: true });
        await rm(this.writePath(k), { recursive: true, force: true });
      }
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { key, sizeBytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (err) {
      if (notFound(err)) return undefined;
      throw this.fail('reading', key, err);
    }
  }
}

function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

async function parallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  });
  await Promise.all(workers);
}

registerBuiltInStorage('s3', (location, { localDir, options }) => S3Storage.open(location, localDir, options));
