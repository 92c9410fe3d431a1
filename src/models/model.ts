import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { interpolate } from '../config/interpolate.js';
import type { Engine } from '../engine/engine.js';
import { TributaryError } from '../errors.js';
import { parseTableName } from '../lake/table-name.js';
import { editDistance } from '../util/nearest.js';
import { tableReferences } from '../engine/references.js';

/**
 * table: full refresh from all inputs. incremental: append what the model computes over its incremental input's
 * new files. merge: like incremental, then replace existing rows that have the same unique key.
 */
export type Materialization = 'table' | 'incremental' | 'merge';

/** A SQL model: the file `models/<layer>/<name>.sql` defines the table `layer.name`. */
export interface ModelDefinition {
  name: string;
  /** Absolute path of the SQL file. */
  file: string;
  /** Path shown in messages, relative to the project. */
  displayFile: string;
  sql: string;
  sqlHash: string;
  materialized: Materialization;
  uniqueKey: string[];
  /** The input read incrementally (incremental and merge); others are read whole. */
  incrementalInput: string | undefined;
  description: string | undefined;
  /** Schema-qualified tables the SQL reads (`layer.table`), found by DuckDB's parser. */
  reads: string[];
}

const HEADER = /^--\s*([a-z_]+)\s*:\s*(.*?)\s*$/;
const CLOCK = /\b(current_date|current_timestamp|current_time|now\s*\(|today\s*\(|get_current_timestamp|get_current_time)/i;
const KEYS = new Set(['materialized', 'unique_key', 'incremental_input', 'description']);

/**
 * Finds `<modelsPath>/<layer>/<name>.sql`. Settings are leading comment lines, dbt-style:
 *   -- materialized: merge
 *   -- unique_key: invoice_no, stock_code
 */
export async function discoverModels(engine: Engine, modelsPath: string, projectDir: string): Promise<ModelDefinition[]> {
  let layers: string[];
  try {
    layers = readdirSync(modelsPath)
      .filter((d) => statSync(path.join(modelsPath, d)).isDirectory())
      .sort();
  } catch {
    return [];
  }
  const models: ModelDefinition[] = [];
  for (const layer of layers) {
    for (const entry of readdirSync(path.join(modelsPath, layer))
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      const file = path.join(modelsPath, layer, entry);
      models.push(await readModel(engine, file, path.relative(projectDir, file), `${layer}.${entry.slice(0, -4)}`));
    }
  }
  return models;
}

async function readModel(engine: Engine, file: string, displayFile: string, name: string): Promise<ModelDefinition> {
  parseTableName(name, displayFile);
  // `${VAR:-default}` makes rules configurable from the environment (e.g. amount bounds); the value is part of the
  // SQL's hash, so changing it rebuilds the model.
  const sql = interpolate(
    readFileSync(file, 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .replace(/;\s*$/, ''),
    displayFile,
  );
  const settings: Record<string, string> = {};
  const lineOf: Record<string, number> = {};
  for (const [i, line] of sql.split('\n').entries()) {
    if (!line.startsWith('--')) break;
    const match = HEADER.exec(line);
    if (!match) continue;
    const key = match[1]!;
    if (!KEYS.has(key)) {
      // Other `-- word: …` comments are just comments, unless they look like a misspelt setting.
      const near = [...KEYS].find((k) => editDistance(k, key) <= 2);
      if (near) throw new TributaryError('CONFIG_INVALID', `${displayFile}:${i + 1}: unknown model setting "${key}"`, { hint: `did you mean ${near}?` });
      continue;
    }
    settings[key] = match[2]!;
    lineOf[key] = i + 1;
  }
  const at = (key: string) => `${displayFile}${lineOf[key] ? `:${lineOf[key]}` : ''}`;
  const materialized = (settings.materialized ?? 'table') as Materialization;
  if (!['table', 'incremental', 'merge'].includes(materialized)) {
    throw new TributaryError('CONFIG_INVALID', `${at('materialized')}: materialized must be table, incremental or merge, not "${materialized}"`);
  }
  const uniqueKey = (settings.unique_key ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (materialized === 'merge' && uniqueKey.length === 0) {
    throw new TributaryError('CONFIG_INVALID', `${at('materialized')}: materialized: merge needs a unique_key`, {
      hint: 'add a line `-- unique_key: col1, col2`',
    });
  }
  const reads = await tableReferences(engine, sql, displayFile);
  if (reads.includes(name)) throw new TributaryError('CONFIG_INVALID', `${displayFile}: a model cannot read its own table ${name}`);
  let incrementalInput = settings.incremental_input;
  if (materialized !== 'table') {
    if (incrementalInput === undefined) {
      if (reads.length !== 1) {
        throw new TributaryError(
          'CONFIG_INVALID',
          `${displayFile}: reads ${reads.length} tables (${reads.join(', ') || 'none'}); say which one is read incrementally`,
          {
            hint: 'add a line `-- incremental_input: layer.table`',
          },
        );
      }
      incrementalInput = reads[0];
    } else if (!reads.includes(incrementalInput)) {
      throw new TributaryError('CONFIG_INVALID', `${displayFile}: incremental_input ${incrementalInput} is not a table the SQL reads (${reads.join(', ')})`);
    }
  }
  return {
    name,
    file,
    displayFile,
    sql,
    // SQL that reads the clock (current_date, now()…) gives another result another day: the date is part of its
    // hash, so such a model is not skipped as fresh across days.
    sqlHash: createHash('sha256')
      .update(sql)
      .update(CLOCK.test(sql) ? new Date().toISOString().slice(0, 10) : '')
      .digest('hex')
      .slice(0, 16),
    materialized,
    uniqueKey,
    incrementalInput,
    description: settings.description,
    reads,
  };
}
