import { createHash } from 'node:crypto';
import type { CheckResultRecord } from '../catalog/run-log.js';
import type { CheckSpec } from '../config/types.js';
import type { Engine } from '../engine/engine.js';
import { firstLine } from '../engine/engine.js';
import { errorMessage } from '../errors.js';
import { quoteIdent, quoteLiteral } from '../lake/table-name.js';
import { tableReferences } from '../models/model.js';
import { plain } from '../util/json.js';

const SAMPLE_ROWS = 5;

export function checkName(spec: CheckSpec): string {
  if (spec.name) return spec.name;
  switch (spec.kind) {
    case 'not_null':
      return `not_null(${spec.column})`;
    case 'unique':
      return `unique(${spec.columns.join(', ')})`;
    case 'accepted_values':
      return `accepted_values(${spec.column})`;
    case 'range':
      return `range(${spec.column}${spec.min !== undefined ? `, min ${spec.min}` : ''}${spec.max !== undefined ? `, max ${spec.max}` : ''})`;
    case 'row_count':
      return `row_count(${spec.min ?? ''}..${spec.max ?? ''})`;
    case 'freshness':
      return `freshness(${spec.column}, ${spec.maxAgeHours}h)`;
    case 'relationships':
      return `relationships(${spec.column} → ${spec.to}.${spec.field})`;
    case 'sql':
      return 'sql';
  }
}

/** The query returning the rows that fail the check on `table` (a `layer.table` view). */
export function failingRowsSql(table: string, spec: CheckSpec): string {
  const t = table.split('.').map(quoteIdent).join('.');
  switch (spec.kind) {
    case 'not_null':
      return `SELECT * FROM ${t} WHERE ${quoteIdent(spec.column)} IS NULL`;
    case 'unique': {
      const cols = spec.columns.map(quoteIdent).join(', ');
      return `SELECT ${cols}, count(*) AS occurrences FROM ${t} GROUP BY ALL HAVING count(*) > 1 ORDER BY occurrences DESC`;
    }
    case 'accepted_values':
      return `SELECT * FROM ${t} WHERE ${quoteIdent(spec.column)} IS NOT NULL AND ${quoteIdent(spec.column)} NOT IN (${spec.values.map(literal).join(', ')})`;
    case 'range': {
      const c = quoteIdent(spec.column);
      const bounds = [spec.min !== undefined ? `${c} < ${spec.min}` : '', spec.max !== undefined ? `${c} > ${spec.max}` : ''].filter(Boolean);
      return `SELECT * FROM ${t} WHERE ${bounds.length ? bounds.join(' OR ') : 'false'}`;
    }
    case 'row_count': {
      const bounds = [spec.min !== undefined ? `count(*) < ${spec.min}` : '', spec.max !== undefined ? `count(*) > ${spec.max}` : ''].filter(Boolean);
      return `SELECT count(*) AS row_count FROM ${t} HAVING ${bounds.length ? bounds.join(' OR ') : 'false'}`;
    }
    case 'freshness': {
      const latest = `max(CAST(${quoteIdent(spec.column)} AS TIMESTAMPTZ))`;
      return `SELECT ${latest} AS latest FROM ${t} HAVING ${latest} IS NULL OR ${latest} < now() - to_minutes(CAST(${Math.round(spec.maxAgeHours * 60)} AS BIGINT))`;
    }
    case 'relationships': {
      const to = spec.to.split('.').map(quoteIdent).join('.');
      return `SELECT * FROM ${t} AS child WHERE child.${quoteIdent(spec.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${to} AS parent WHERE parent.${quoteIdent(spec.field)} = child.${quoteIdent(spec.column)})`;
    }
    case 'sql':
      return spec.query.trim().replace(/;\s*$/, '');
  }
}

function literal(v: string | number | boolean): string {
  return typeof v === 'string' ? quoteLiteral(v) : String(v);
}

/** Tables a check reads besides its own: they must be built before the check runs. */
export async function checkDependencies(engine: Engine, table: string, spec: CheckSpec): Promise<string[]> {
  if (spec.kind === 'relationships') return [spec.to];
  if (spec.kind === 'sql')
    return (await tableReferences(engine, failingRowsSql(table, spec), `check ${checkName(spec)} of ${table}`)).filter((t) => t !== table);
  return [];
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
