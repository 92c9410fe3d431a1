import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import type { CatalogLocation, TributaryConfig } from '../../src/config/types.js';
import { Lake } from '../../src/lake/lake.js';
import { tempDir } from './helpers.js';

/** A throwaway project folder with an open lake, closed after the test file. */
export async function openTestLake(
  config: TributaryConfig = {},
  options: { catalog?: CatalogLocation /** A folder of this name inside the temporary one is the project. */; folderName?: string } = {},
): Promise<{ lake: Lake; dir: string; write: (rel: string, content: string | Buffer) => string }> {
  const dir = options.folderName ? path.join(tempDir('trib-project-'), options.folderName) : tempDir('trib-project-');
  mkdirSync(dir, { recursive: true });
  const resolved = resolveConfig(config, dir, undefined);
  if (options.catalog) resolved.catalog = options.catalog;
  const lake = await Lake.open(resolved);
  afterAll(() => lake.close());
  const write = (rel: string, content: string | Buffer) => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  };
  return { lake, dir, write };
}

export async function rows(lake: Lake, sql: string): Promise<Record<string, unknown>[]> {
  return (await lake.query(sql)).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}
