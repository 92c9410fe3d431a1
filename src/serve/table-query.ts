import { TributaryError } from '../errors.js';
import { quoteIdent } from '../engine/sql.js';
import type { LiveTable } from './live-tables.js';

/** A request's failure that the client caused: HTTP 400 naming the parameter. */
export class BadRequest extends TributaryError {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super('INVALID_INPUT', `${parameter}: ${message}`);
  }
}

export type Op = 'eq' | 'in' | 'gt' | 'gte' | 'lt' | 'lte';
export interface Filter {
  column: string;
  op: Op;
  value: string;
  /** The query parameter it came from, for error messages. */
  parameter: string;
}

export interface ListRequest {
  filters: Filter[];
  sort: { column: string; descending: boolean }[];
  fields: string[] | undefined;
  limit: number;
  offset: number;
}

/** Reserved query parameters of the generic table API; every other `column[.op]=value` is a filter. */
export const RESERVED = new Set(['limit', 'offset', 'cursor', 'sort', 'fields']);

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/i;
const NUMERIC = /^(FLOAT|REAL|DOUBLE|DECIMAL)/i;
const RANGES: Record<string, [bigint, bigint]> = {
  TINYINT: [-128n, 127n],
  SMALLINT: [-32768n, 32767n],
  INTEGER: [-2147483648n, 2147483647n],
  BIGINT: [-9223372036854775808n, 9223372036854775807n],
  UTINYINT: [0n, 255n],
  USMALLINT: [0n, 65535n],
  UINTEGER: [0n, 4294967295n],
};

const OPS = ['eq', 'in', 'gt', 'gte', 'lt', 'lte'];

/** Parses `col=v`, `col.in=a,b`, `col.gte=v`… against the table's columns; values are checked against their type. */
export function parseFilters(table: LiveTable, query: Record<string, unknown>): Filter[] {
  const filters: Filter[] = [];
  for (const [parameter, raw] of Object.entries(query)) {
    if (RESERVED.has(parameter) || raw === undefined) continue;
    // `col` or `col.op`, exactly: `pays.gt.lt` is an error, never read as `pays.gt`.
    const dot = parameter.lastIndexOf('.');
    const isColumn = table.columns.some((c) => c.name === parameter);
    const column = isColumn || dot < 0 ? parameter : parameter.slice(0, dot);
    const op = isColumn || dot < 0 ? 'eq' : parameter.slice(dot + 1);
    if (!OPS.includes(op)) throw new BadRequest(parameter, `unknown operator "${op}" (${OPS.join(', ')})`);
    if (column.includes('.') && !table.columns.some((c) => c.name === column)) {
      throw new BadRequest(parameter, `one operator per parameter: write ${column.split('.')[0]}.<op>=value (operators ${OPS.join(', ')})`);
    }
    const value = Array.isArray(raw) ? raw.join(',') : String(raw);
    filters.push({ column: requireColumn(table, column, parameter), op: op as Op, value, parameter });
  }
  return filters;
}

export function requireColumn(table: LiveTable, column: string, parameter: string): string {
  if (!table.columns.some((c) => c.name === column)) {
    throw new BadRequest(parameter, `${table.name} has no column "${column}" (columns: ${table.columns.map((c) => c.name).join(', ')})`);
  }
  return column;
}

function requireColumnType(table: LiveTable, column: string, parameter: string): string {
  return table.columns.find((c) => c.name === requireColumn(table, column, parameter))!.type;
}

function checkValue(table: LiveTable, column: string, value: string, parameter: string): void {
  const type = table.columns.find((c) => c.name === column)!.type.toUpperCase();
  const bad = (what: string) => new BadRequest(parameter, `"${value}" is not ${what} (${column} is ${type})`);
  if (INTEGER.test(type)) {
    if (!/^-?\d{1,39}$/.test(value)) throw bad('an integer');
    const range = RANGES[type];
    if (range && (BigInt(value) < range[0] || BigInt(value) > range[1])) throw bad(`within the range of ${type}`);
  } else if (NUMERIC.test(type)) {
    if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) throw bad('a number');
    // A number the column cannot hold is refused, not rounded to infinity or overflowed in the cast.
    const n = Number(value);
    const decimal = /^DECIMAL\((\d+),\s*(\d+)\)/.exec(type);
    const max = decimal ? 10 ** (Number(decimal[1]) - Number(decimal[2])) : /^(FLOAT|REAL)$/.test(type) ? 3.4028234663852886e38 : Number.MAX_VALUE;
    if (!Number.isFinite(n) || Math.abs(n) >= max * (decimal ? 1 : 1.0000001)) throw bad(`within the range of ${type}`);
  } else if (type === 'DATE') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const d = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!)) : undefined;
    if (!d || d.getUTCMonth() !== +m![2]! - 1 || d.getUTCDate() !== +m![3]!) throw bad('a date YYYY-MM-DD');
  } else if (type.startsWith('TIMESTAMP')) {
    // As the API writes them too: `2024-01-31 13:45:00+00` (DuckDB's text for TIMESTAMPTZ) filters as it reads.
    if (!/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/.test(value) || Number.isNaN(Date.parse(value)))
      throw bad('a timestamp');
  } else if (type === 'BOOLEAN') {
    if (!/^(true|false)$/i.test(value)) throw bad('true or false');
  }
}

export function parseSort(table: LiveTable, sort: string | undefined): ListRequest['sort'] {
  if (!sort) return [];
  return sort
    .split(',')
    .filter(Boolean)
    .map((s) => {
      const descending = s.startsWith('-');
      return { column: requireColumn(table, descending ? s.slice(1) : s, 'sort'), descending };
    });
}

export function parseFields(table: LiveTable, fields: string | undefined): string[] | undefined {
  return fields
    ? fields
        .split(',')
        .filter(Boolean)
        .map((f) => requireColumn(table, f, 'fields'))
    : undefined;
}

/**
 * WHERE clause with `$n` parameters: identifiers are whitelisted columns, values are always bound, and checked
 * against the column's type first so that a bad value is a 400 naming its parameter, not a failed cast.
 */
export function whereClause(table: LiveTable, filters: readonly Filter[], params: unknown[]): string {
  const parts = filters.map((f) => {
    const type = requireColumnType(table, f.column, f.parameter);
    const bind = (v: string) => {
      checkValue(table, f.column, v, f.parameter);
      params.push(v);
      return `CAST($${params.length} AS ${type})`;
    };
    const col = quoteIdent(f.column);
    const sql = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
    return f.op === 'in' ? `${col} IN (${f.value.split(',').map(bind).join(', ')})` : `${col} ${sql[f.op]} ${bind(f.value)}`;
  });
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/**
 * One aggregation query for the generic API and declared endpoints: measures (SQL expressions, validated by the
 * caller against the declared ones) by dimensions and/or a period of a time column, over filtered rows.
 */
export function aggregateSql(
  table: LiveTable,
  req: {
    measures: readonly { expression: string; alias: string }[];
    dimensions?: readonly string[];
    period?: { unit: 'day' | 'week' | 'month' | 'quarter' | 'year'; column: string; alias: string };
    filters?: readonly Filter[];
  },
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = whereClause(table, req.filters ?? [], params);
  const groups = [
    ...(req.period
      ? [`CAST(date_trunc('${req.period.unit}', ${quoteIdent(requireColumn(table, req.period.column, 'period'))}) AS DATE) AS ${quoteIdent(req.period.alias)}`]
      : []),
    ...(req.dimensions ?? []).map((d) => quoteIdent(requireColumn(table, d, 'by'))),
  ];
  const select = [...groups, ...req.measures.map((m) => `${m.expression} AS ${quoteIdent(m.alias)}`)].join(', ');
  return { sql: `SELECT ${select} FROM ${table.view} ${where} ${groups.length ? 'GROUP BY ALL ORDER BY ALL' : ''}`, params };
}

/** Name of the window column that carries the filtered total alongside the page (dropped from the rows). */
export const TOTAL = '__tributary_total';

/**
 * One query for a page and its total (`count(*) OVER ()` is computed before LIMIT), so an uncached request costs one
 * DuckDB round trip; `countSql` is only needed when the page is empty.
 */
export function listSql(table: LiveTable, req: ListRequest): { sql: string; countSql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = whereClause(table, req.filters, params);
  const select = req.fields ? req.fields.map(quoteIdent).join(', ') : '*';
  // A stable order makes offsets and cursors meaningful: the requested sort, then the other columns.
  const sorted = new Set(req.sort.map((k) => k.column));
  const order = [
    ...req.sort.map((k) => `${quoteIdent(k.column)} ${k.descending ? 'DESC' : 'ASC'}`),
    ...table.columns.filter((c) => !sorted.has(c.name)).map((c) => quoteIdent(c.name)),
  ].join(', ');
  return {
    sql: `SELECT ${select}, count(*) OVER () AS ${TOTAL} FROM ${table.view} ${where} ORDER BY ${order} LIMIT ${req.limit} OFFSET ${req.offset}`,
    countSql: `SELECT count(*) AS n FROM ${table.view} ${where}`,
    params,
  };
}

/** Opaque pagination cursor: the next offset, tied to the snapshot it pages through. */
/** Splits the window total off a page's rows; an empty page needs the count query. */
export async function pageWithTotal<R extends Record<string, unknown>>(rows: R[], count: () => Promise<number>): Promise<{ rows: R[]; total: number }> {
  if (rows.length === 0) return { rows, total: await count() };
  const total = Number(rows[0]![TOTAL]);
  for (const row of rows) delete row[TOTAL];
  return { rows, total };
}

export function encodeCursor(offset: number, snapshotId: number): string {
  return Buffer.from(JSON.stringify({ o: offset, s: snapshotId })).toString('base64url');
}

export function decodeCursor(cursor: string): { offset: number; snapshotId: number } {
  try {
    const { o, s } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o: unknown; s: unknown };
    if (Number.isInteger(o) && (o as number) >= 0 && (o as number) <= 1_000_000 && Number.isInteger(s)) return { offset: o as number, snapshotId: s as number };
  } catch {
    // fall through
  }
  throw new BadRequest('cursor', 'not a cursor returned by this API');
}
