import type { ColumnInfo } from '../catalog/types.js';
import { quoteIdent, quoteLiteral } from '../engine/sql.js';
import { TributaryError } from '../errors.js';
import { type SchemaContract, schemaContractSchema } from '../lake/config.js';
import type { Lake } from '../lake/lake.js';
import { effectiveSchemas } from '../lake/schema-diff.js';
import { type ContractColumn, contractColumns, readContract } from '../registry/lake-columns.js';

/**
 * Schema contracts for ingestion (dlt's words): what a batch may change in its table's schema. Every source kind
 * applies them the same way, per source (`sources.<name>.schemaContract`) over per table
 * (`tables['<layer.table>'].schemaContract`) over the defaults.
 *
 * - `columns` — a column the table does not have: `evolve` adds it (the default; NULL in earlier rows), `freeze`
 *   refuses the batch, `discard_value` drops the column and keeps the rows, `discard_row` sets aside the rows that
 *   hold a value in it (in `<table>_rejects`, with the reason) and keeps the others. A table with a `contract` has
 *   exactly the contract's columns: its default is `freeze`.
 * - `types` — a column whose values come with another type than the table's: a type the table's holds without loss
 *   (INTEGER into BIGINT) is cast to it, always. Otherwise `freeze` (the default) refuses the batch naming the column,
 *   the table's type and the new one; `evolve` takes the new type when the table's widens to it without loss (the
 *   lattice below) and refuses the others; `discard_row` casts to the table's type and sets aside the rows whose value
 *   does not fit. A column never silently becomes text.
 *
 * What "refuses" means is the source's unit: a file is quarantined with the reason; a batch of a database or an
 * HTTP source fails the ingestion with it, nothing committed and the cursor unmoved, so that the rows are read
 * again once the contract (or the table) allows them. Every change that does happen is in the ingest report and in
 * the table's history (`tributary lake history`).
 */
export { type SchemaContract, schemaContractSchema };
export type ColumnsPolicy = NonNullable<SchemaContract['columns']>;
export type TypesPolicy = NonNullable<SchemaContract['types']>;

/** A table's contract with its policies resolved, and where each came from (for messages). */
export interface ResolvedSchemaContract {
  table: string;
  columns: ColumnsPolicy;
  types: TypesPolicy;
  /** The setting each policy comes from: `sources.x.schemaContract.columns`, `tables['t'].schemaContract.types`, or the default. */
  from: { columns: string; types: string };
  /** Which policies are the defaults (no setting). */
  defaults: { columns: boolean; types: boolean };
  /** The columns the table's contract file declares (`tables[…].contract`). */
  declared?: ContractColumn[];
}

/** The lineage columns sources add: never a schema change of their own. */
export const LINEAGE_COLUMNS = new Set(['_ingested_at', '_source', '_batch_id', '_source_file', '_file_hash']);

export function resolveSchemaContract(
  lake: Lake,
  table: string,
  source: { name: string; schemaContract?: SchemaContract | undefined },
): ResolvedSchemaContract {
  const tableConfig = lake.tableConfig(table);
  const at = `tables['${table}']`;
  const declared = tableConfig.contract
    ? contractColumns(readContract(lake.config.projectDir, tableConfig.contract, `${at}.contract`), `${at}.contract`)
    : undefined;
  const pick = <K extends 'columns' | 'types'>(key: K, fallback: NonNullable<SchemaContract[K]>) => {
    const fromSource = source.schemaContract?.[key];
    if (fromSource) return { value: fromSource, from: `sources.${source.name}.schemaContract.${key}` };
    const fromTable = tableConfig.schemaContract?.[key];
    if (fromTable) return { value: fromTable, from: `${at}.schemaContract.${key}` };
    return { value: fallback, from: `schemaContract.${key}` };
  };
  const columns = pick('columns', declared ? 'freeze' : 'evolve');
  const types = pick('types', 'freeze');
  return {
    table,
    columns: columns.value as ColumnsPolicy,
    types: types.value as TypesPolicy,
    from: { columns: columns.from, types: types.from },
    defaults: { columns: columns.from === 'schemaContract.columns', types: types.from === 'schemaContract.types' },
    ...(declared ? { declared } : {}),
  };
}

/** Which policy decided, for messages: `sources.s.schemaContract.types is 'freeze'`, or `… 'freeze' by default`. */
export function policy(contract: ResolvedSchemaContract, key: 'columns' | 'types'): string {
  return `${contract.from[key]} is '${contract[key]}'${contract.defaults[key] ? ` by default${key === 'columns' && contract.declared ? ' for a table with a contract' : ''}` : ''}`;
}

/**
 * The columns a batch must match: the contract's when the table declares one, else the table's own at its current
 * snapshot (an append adds to its parent's columns); none for a table that does not exist yet. Lineage aside.
 */
export async function expectedColumns(lake: Lake, contract: ResolvedSchemaContract): Promise<Record<string, string>> {
  if (contract.declared) return Object.fromEntries(contract.declared.map((c) => [c.name, c.type]));
  const table = contract.table;
  if (!(await lake.catalog.getTable(table))) return {};
  const history = await lake.history(table);
  const current = history.find((s) => !s.expired) ?? history[0];
  if (!current) return {};
  const columns = effectiveSchemas(history).get(current.snapshotId) ?? current.schema;
  return Object.fromEntries(columns.filter((c) => !LINEAGE_COLUMNS.has(c.name)).map((c) => [c.name, c.type]));
}

const INTEGERS = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT'];
const UNSIGNED: Record<string, string> = { UTINYINT: 'SMALLINT', USMALLINT: 'INTEGER', UINTEGER: 'BIGINT', UBIGINT: 'HUGEINT' };

/**
 * Does a column of type `from` widen to `to` without losing a value? The lattice: TINYINT → SMALLINT → INTEGER →
 * BIGINT → HUGEINT (unsigned ones into the next signed size), any integer or FLOAT or DECIMAL → DOUBLE, DECIMAL(p, s)
 * → DECIMAL(p', s') with room for both parts, DATE → TIMESTAMP and TIMESTAMPTZ, TIMESTAMP → TIMESTAMPTZ.
 */
export function widensWithoutLoss(from: string, to: string): boolean {
  const f = normalize(from);
  const t = normalize(to);
  if (f === t) return true;
  const fi = INTEGERS.indexOf(UNSIGNED[f] ?? f);
  if (fi >= 0 && INTEGERS.includes(t)) return INTEGERS.indexOf(t) >= fi;
  if ((fi >= 0 || f === 'FLOAT' || f.startsWith('DECIMAL')) && t === 'DOUBLE') return true;
  const fd = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(f);
  const td = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (fd && td) return Number(td[2]) >= Number(fd[2]) && Number(td[1]) - Number(td[2]) >= Number(fd[1]) - Number(fd[2]);
  if (fi >= 0 && td) {
    const digits = [3, 5, 10, 19, 39][fi]!;
    return Number(td[1]) - Number(td[2]) >= digits;
  }
  if (f === 'DATE') return t === 'TIMESTAMP' || t === 'TIMESTAMP WITH TIME ZONE';
  return f === 'TIMESTAMP' && t === 'TIMESTAMP WITH TIME ZONE';
}

function normalize(type: string): string {
  const t = type.trim().toUpperCase().replace(/\s+/g, ' ');
  if (t === 'TIMESTAMPTZ') return 'TIMESTAMP WITH TIME ZONE';
  if (t === 'INT' || t === 'INT4') return 'INTEGER';
  if (t === 'INT8' || t === 'LONG') return 'BIGINT';
  if (t === 'REAL' || t === 'FLOAT4') return 'FLOAT';
  if (t === 'FLOAT8') return 'DOUBLE';
  if (t === 'TEXT' || t === 'STRING') return 'VARCHAR';
  return t.replace(/^DECIMAL\((\d+),\s*(\d+)\)$/, 'DECIMAL($1,$2)');
}

/** What a batch does to its table's schema under the contract. */
export interface ColumnPlan {
  /** Per incoming column: the expression it is written as (cast to the table's type), or absent when dropped. */
  project: Map<string, string>;
  /** Conditions that set a row aside, each with its reason (`discard_row`). */
  rejects: { when: string; column: string; reason: string }[];
  /** Schema changes that happen (for the report and the history): `new column x (VARCHAR)`, `column y: INTEGER → BIGINT`. */
  changes: string[];
  /** Columns dropped by `discard_value`. */
  discarded: string[];
  /** Why the batch is refused, when it is. */
  refusal?: string;
  /**
   * What the table's contract says of values (a column that is not nullable, an enum's symbols): rows breaking it
   * refuse the batch, unless `types: 'discard_row'` (then they are among `rejects`). The caller looks for them.
   */
  valueChecks: { when: string; column: string; reason: string }[];
}

/**
 * Compares a batch's columns with what its table expects and decides each difference by the contract. `incoming`
 * are the batch's columns as read (lineage and `passthrough` columns are left as they are).
 */
export function planColumns(
  contract: ResolvedSchemaContract,
  expected: Record<string, string>,
  incoming: readonly ColumnInfo[],
  passthrough: readonly string[] = [],
  /** The reader already applied the table's types (files): a type that still differs is not judged again. */
  readerTyped = false,
): ColumnPlan {
  const plan: ColumnPlan = { project: new Map(), rejects: [], changes: [], discarded: [], valueChecks: [] };
  const known = Object.keys(expected).length > 0;
  const refusals: string[] = [];
  for (const c of incoming) {
    const id = quoteIdent(c.name);
    if (LINEAGE_COLUMNS.has(c.name) || passthrough.includes(c.name)) {
      plan.project.set(c.name, id);
      continue;
    }
    const was = expected[c.name];
    if (was === undefined) {
      if (!known || contract.columns === 'evolve') {
        plan.project.set(c.name, id);
        if (known) plan.changes.push(`new column ${c.name} (${c.type})`);
      } else if (contract.columns === 'freeze') refusals.push(`new column ${c.name} (${c.type}) is not in ${contract.table} (${policy(contract, 'columns')})`);
      else if (contract.columns === 'discard_value') plan.discarded.push(c.name);
      else {
        plan.discarded.push(c.name);
        plan.rejects.push({
          when: `${id} IS NOT NULL`,
          column: c.name,
          reason: `column ${c.name} is not in ${contract.table} (${policy(contract, 'columns')})`,
        });
      }
      continue;
    }
    if (readerTyped && normalize(was) !== normalize(c.type)) {
      plan.project.set(c.name, id);
      continue;
    }
    if (normalize(was) === normalize(c.type) || c.type === '"NULL"' || c.type === 'NULL') {
      plan.project.set(c.name, normalize(was) === normalize(c.type) ? id : `CAST(${id} AS ${was})`);
      continue;
    }
    // Values the table's type holds as they are (an INTEGER into BIGINT, a number into a text column): cast, no change.
    if (
      widensWithoutLoss(c.type, was) ||
      normalize(was) === 'JSON' ||
      (normalize(was) === 'VARCHAR' && !/[[(]|STRUCT|MAP|UNION|BLOB/.test(normalize(c.type)))
    ) {
      plan.project.set(c.name, `CAST(${id} AS ${was})`);
      continue;
    }
    if (contract.types === 'evolve' && widensWithoutLoss(was, c.type) && !contract.declared) {
      plan.project.set(c.name, id);
      plan.changes.push(`column ${c.name}: ${was} → ${c.type}`);
      continue;
    }
    if (contract.types === 'discard_row') {
      plan.project.set(c.name, `TRY_CAST(${id} AS ${was})`);
      plan.rejects.push({
        when: `${id} IS NOT NULL AND TRY_CAST(${id} AS ${was}) IS NULL`,
        column: c.name,
        reason: `column ${c.name}: the value (${c.type}) does not fit ${contract.table}'s ${was} (${policy(contract, 'types')})`,
      });
      continue;
    }
    refusals.push(
      `column ${c.name} is ${c.type}, but ${contract.table} holds it as ${was} (${policy(contract, 'types')}${contract.types === 'evolve' ? `: ${was} does not widen to ${c.type} without loss` : ''})`,
    );
  }
  // A table with a contract has its columns from the first batch on: those a batch lacks are NULL, if they may be;
  // the values of those it has are what the contract allows (not null, one of the enum's symbols).
  for (const c of contract.declared ?? []) {
    if (incoming.some((i) => i.name === c.name)) {
      const expr = plan.project.get(c.name);
      if (expr === undefined) continue;
      const checks: { when: string; what: string }[] = [];
      if (!c.nullable) checks.push({ when: `${expr} IS NULL`, what: 'is null, which the contract does not allow' });
      if (c.enum)
        checks.push({
          when: `${expr} IS NOT NULL AND CAST(${expr} AS VARCHAR) NOT IN (${c.enum.map(quoteLiteral).join(', ')})`,
          what: `is not one of the contract's symbols (${c.enum.join(', ')})`,
        });
      for (const k of checks) {
        const check = { when: k.when, column: c.name, reason: `column ${c.name} ${k.what} (${contract.table}'s contract, ${policy(contract, 'types')})` };
        if (contract.types === 'discard_row') plan.rejects.push(check);
        else plan.valueChecks.push(check);
      }
      continue;
    }
    if (!c.nullable) refusals.push(`column ${c.name} of ${contract.table}'s contract is missing (it is not nullable)`);
    else plan.project.set(c.name, `CAST(NULL AS ${c.type})`);
  }
  if (refusals.length) plan.refusal = refusals.join('; ');
  return plan;
}

/** The rows a plan keeps, and (with `discard_row`) the rows it sets aside in the rejects table's shape. */
export function plannedSelects(
  plan: ColumnPlan,
  inner: string,
  options: { lineOffset?: number; internal?: readonly string[] } = {},
): { select: string; rejects: string | undefined } {
  const list = [...plan.project].map(([name, expr]) => `${expr} AS ${quoteIdent(name)}`).join(', ');
  const keep = plan.rejects.length ? ` WHERE NOT (${plan.rejects.map((r) => `(${r.when})`).join(' OR ')})` : '';
  const select = `SELECT ${list} FROM (${inner}) AS _batch${keep}`;
  if (!plan.rejects.length) return { select, rejects: undefined };
  const lineage = [...plan.project.keys()].filter((c) => LINEAGE_COLUMNS.has(c));
  // The rows as they came, without the connector's own columns (an ordinal).
  const rowsOf = options.internal?.length ? `SELECT * EXCLUDE (${options.internal.map(quoteIdent).join(', ')}) FROM (${inner})` : inner;
  const partition = lineage.includes('_source_file') ? 'PARTITION BY "_source_file"' : '';
  const column = `CASE ${plan.rejects.map((r) => `WHEN ${r.when} THEN ${quoteLiteral(r.column)}`).join(' ')} END`;
  const reason = `CASE ${plan.rejects.map((r) => `WHEN ${r.when} THEN ${quoteLiteral(r.reason)}`).join(' ')} END`;
  const rejects = `SELECT ${lineage.map(quoteIdent).join(', ')}${lineage.length ? ', ' : ''}line, column_name, 'SCHEMA' AS error_type, reason, raw_line
    FROM (SELECT *, CAST(row_number() OVER (${partition}) + ${options.lineOffset ?? 0} AS BIGINT) AS line, ${column} AS column_name, ${reason} AS reason,
                 CAST(to_json(_batch) AS VARCHAR) AS raw_line FROM (${rowsOf}) AS _batch) AS _rows
   WHERE column_name IS NOT NULL`;
  return { select, rejects };
}

/**
 * A batch of a database or HTTP source under its table's contract: the SELECT to write (cast, columns dropped, rows
 * set aside), the rejects' SELECT, and the changes. A refusal fails the ingestion naming the culprit.
 */
export async function contractBatch(
  lake: Lake,
  contract: ResolvedSchemaContract,
  inner: string,
  where: string,
  options: { passthrough?: readonly string[]; internal?: readonly string[] } = {},
): Promise<{ select: string; rejects: string | undefined; changes: string[]; discarded: string[] }> {
  const incoming = await lake.engine.describe(inner);
  const plan = planColumns(contract, await expectedColumns(lake, contract), incoming, options.passthrough);
  const [broken] = await valueViolations(lake, plan, inner);
  plan.refusal ??= broken && `${broken.reason}, first in row ${broken.row}`;
  if (plan.refusal)
    throw new TributaryError('INGEST_FAILED', `${where}: ${plan.refusal}; nothing committed`, {
      hint: 'change the schemaContract of the source or the table to let the change in (docs/contracts.md, "Schema evolution policies")',
    });
  return { ...plannedSelects(plan, inner, options.internal ? { internal: options.internal } : {}), changes: plan.changes, discarded: plan.discarded };
}

/**
 * Rows breaking the contract's value rules: the first one (its reason and row number), or — `byFile` — the first of
 * each file (`_source_file`, numbered within it).
 */
export async function valueViolations(
  lake: Lake,
  plan: ColumnPlan,
  inner: string,
  byFile = false,
): Promise<{ file: string | undefined; row: number; reason: string }[]> {
  if (!plan.valueChecks.length) return [];
  const reason = `CASE ${plan.valueChecks.map((v) => `WHEN ${v.when} THEN ${quoteLiteral(v.reason)}`).join(' ')} END`;
  const sql = byFile
    ? `SELECT "_source_file" AS f, min(n) AS n, arg_min(reason, n) AS reason FROM (SELECT "_source_file", ${reason} AS reason, row_number() OVER (PARTITION BY "_source_file") AS n FROM (${inner}) AS _batch) WHERE reason IS NOT NULL GROUP BY 1`
    : `SELECT NULL AS f, n, reason FROM (SELECT ${reason} AS reason, row_number() OVER () AS n FROM (${inner}) AS _batch) WHERE reason IS NOT NULL LIMIT 1`;
  const result = await lake.engine.query(sql);
  return result.rows.map((r) => ({ file: r.f === null ? undefined : String(r.f), row: Number(r.n), reason: String(r.reason) }));
}

/** Writes the rows a batch set aside into `<table>_rejects` (no change when there are none). */
export async function writeRejects(lake: Lake, table: string, rejects: string | undefined, summary: Record<string, string>) {
  if (!rejects) return { change: undefined, rows: 0 };
  const written = await lake.writeFiles(`${table}_rejects`, rejects);
  if (written.rowCount === 0) {
    await lake.abandon(written.files);
    return { change: undefined, rows: 0 };
  }
  return { change: lake.change(written, 'append', summary), rows: written.rowCount };
}
