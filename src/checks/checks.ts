import { createHash } from 'node:crypto';
import type { CheckResultRecord } from '../catalog/run-log.js';
import type { CheckSpec } from '../config/types.js';
import type { Engine } from '../engine/engine.js';
import { firstLine } from '../engine/engine.js';
import { errorMessage } from '../errors.js';
import { quoteIdent } from '../engine/sql.js';
import './builtin.js';
import { checkKind } from './kinds.js';
import { plain } from '../util/json.js';

const SAMPLE_ROWS = 5;

export function checkName(spec: CheckSpec): string {
  return spec.name ?? checkKind(spec.kind).name(spec);
}

/** The query returning the rows that fail the check on `table` (a `layer.table` view). */
export function failingRowsSql(table: string, spec: CheckSpec): string {
  return checkKind(spec.kind).failingRows(table.split('.').map(quoteIdent).join('.'), spec);
}

/** Tables the check reads besides its own (a relationship's parent, a custom query's tables). */
export async function checkDependencies(engine: Engine, table: string, spec: CheckSpec): Promise<string[]> {
  return (await checkKind(spec.kind).reads?.(spec, engine, table)) ?? [];
}

/** Runs checks against whatever `table` currently names in the engine (a published or a candidate snapshot). */
export async function runChecks(
  engine: Engine,
  table: string,
  specs: readonly CheckSpec[],
  runId: string,
  snapshots?: Record<string, number>,
): Promise<CheckResultRecord[]> {
  const results: CheckResultRecord[] = [];
  for (const spec of specs) {
    const base = {
      runId,
      table,
      check: checkName(spec),
      severity: spec.severity ?? 'error',
      checkedAt: new Date(),
      specHash: specHash(spec),
      ...(snapshots ? { snapshots } : {}),
    } as const;
    const failing = failingRowsSql(table, spec);
    try {
      const [count] = await engine.all(`SELECT count(*) AS n FROM (${failing})`);
      const n = Number(count!.n);
      const sample =
        n > 0 ? (await engine.query(`SELECT * FROM (${failing}) LIMIT ${SAMPLE_ROWS}`)).rows.map((row) => plain(row) as Record<string, unknown>) : [];
      results.push({ ...base, status: n > 0 ? 'fail' : 'pass', failingRows: n, sample, error: undefined });
    } catch (err) {
      // A check that cannot run (a column that does not exist…) fails: silence would read as a pass.
      results.push({ ...base, status: 'error', failingRows: 0, sample: [], error: firstLine(errorMessage(err)) });
    }
  }
  return results;
}

/** A check's definition, as a hash: a result recorded under another definition says nothing of this one. */
export function specHash(spec: CheckSpec): string {
  return createHash('sha256')
    .update(JSON.stringify(Object.fromEntries(Object.entries(spec).sort(([a], [b]) => a.localeCompare(b)))))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The current snapshots of a table and of the tables its checks read, read before they are mounted (a commit in
 * between makes the record older than what was checked, so a later freshness test runs the checks again, never the
 * other way round).
 */
export async function checkSnapshots(
  engine: Engine,
  catalog: { getTable(name: string): Promise<{ currentSnapshot: number } | undefined> },
  table: string,
  specs: readonly CheckSpec[],
): Promise<Record<string, number>> {
  const tables = new Set([table]);
  for (const spec of specs) for (const t of await checkDependencies(engine, table, spec)) tables.add(t);
  const out: Record<string, number> = {};
  for (const t of [...tables].sort()) out[t] = (await catalog.getTable(t))?.currentSnapshot ?? 0;
  return out;
}

/** True when a result must stop what depends on the table. */
export function blocks(result: CheckResultRecord): boolean {
  return result.severity === 'error' && result.status !== 'pass';
}
