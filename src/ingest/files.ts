import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import type { FileFormat } from '../config/types.js';
import { TributaryError } from '../errors.js';

export interface DiscoveredFile {
  /** Absolute path, as DuckDB is given it. */
  absPath: string;
  /** Path as recorded in `_source_file`: relative to the project when inside it. */
  displayPath: string;
  sizeBytes: number;
  hash: string;
}

/** Files matching the globs (relative to `cwd`), sorted, de-duplicated. */
export async function discover(patterns: string | readonly string[], cwd: string): Promise<string[]> {
  const list = Array.isArray(patterns) ? patterns : [patterns as string];
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

/** Reads the first bytes of a file, for cheap checks before DuckDB sees it. */
export async function readHead(file: string, bytes = 64 * 1024): Promise<Buffer> {
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
  throw new TributaryError('USAGE', `${where}: cannot tell the format of ${file} from its extension "${ext}"`, {
    hint: 'set format: csv | json | ndjson | parquet',
  });
}
