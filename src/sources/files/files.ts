import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import type { FileFormat } from '../../config/types.js';
import { TributaryError } from '../../errors.js';

export interface DiscoveredFile {
  /** Absolute path, as DuckDB is given it. */
  absPath: string;
  /** Path as recorded in `_source_file`: relative to the project when inside it. */
  displayPath: string;
  sizeBytes: number;
  hash: string;
}

/** The token a source's glob may hold for the date partition a run processes (e.g. `sales-{partition}.csv`). */
export const PARTITION_TOKEN = '{partition}';

/**
 * Files matching the globs (relative to `cwd`), sorted, de-duplicated. `{partition}` in a glob matches the given
 * partition key (a partitioned job's run), or anything when there is none.
 */
export async function discover(patterns: string | readonly string[], cwd: string, partition?: string): Promise<string[]> {
  const list = (Array.isArray(patterns) ? patterns : [patterns as string]).map((p: string) => p.replaceAll(PARTITION_TOKEN, partition ?? '*'));
  const found = await glob([...list], { cwd, absolute: true, onlyFiles: true, dot: false, expandDirectories: false });
  return [...new Set(found.map((f) => path.resolve(f)))].sort();
}

export function displayPath(absPath: string, projectDir: string): string {
  const rel = path.relative(projectDir, absPath);
  return rel.startsWith('..') || path.isAbsolute(rel) ? absPath : rel.split(path.sep).join('/');
}

/** Content hash (sha256, streamed): the identity of a file for idempotent ingestion. */
export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

const HEAD_BYTES = 64 * 1024;
const WHOLE_READ_LIMIT = 16 * 1024 * 1024;

/**
 * Size, content hash and first bytes of a file in one pass where possible: small files are read once; large ones
 * are hashed as a stream (never held in memory) and their head read separately.
 */
export async function fingerprint(file: string): Promise<{ sizeBytes: number; hash: string; head: Buffer }> {
  const { size } = await stat(file);
  if (size <= WHOLE_READ_LIMIT) {
    const bytes = await readFile(file);
    return { sizeBytes: bytes.length, hash: createHash('sha256').update(bytes).digest('hex'), head: bytes.subarray(0, HEAD_BYTES) };
  }
  return { sizeBytes: size, hash: await hashFile(file), head: await readHead(file) };
}

/** Maps with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Reads the first bytes of a file, for cheap checks before DuckDB sees it. */
export async function readHead(file: string, bytes = HEAD_BYTES): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function formatFromPath(file: string, where: string): FileFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new TributaryError('INVALID_INPUT', `${where}: cannot tell the format of ${file} from its extension "${ext}"`, {
    hint: 'set format: csv | json | ndjson | parquet',
  });
}
