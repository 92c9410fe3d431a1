import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { quoteIdent as duckIdent, quoteLiteral as duckLiteral } from '../../engine/sql.js';
import { TributaryError } from '../../errors.js';
import { newId } from '../../util/ids.js';
import type { SourceContext } from '../connector.js';
import type { SqlSourceConfig } from './config.js';
import type { SqlColumn } from './reader.js';

/** DuckDB's SELECT over a CSV file PostgreSQL wrote: every column typed as the lake stores it. */
export function readCsv(file: string, columns: SqlColumn[], maxRowBytes = 16 * 1024 * 1024): string {
  const spec = `{${columns.map((c) => `${duckLiteral(c.name)}: 'VARCHAR'`).join(', ')}}`;
  const csv = `read_csv(${duckLiteral(file)}, columns = ${spec}, header = false, delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, auto_detect = false, max_line_size = ${maxRowBytes}, buffer_size = ${2 * maxRowBytes})`;
  return `SELECT ${columns.map((c) => `${c.read(duckIdent(c.name))} AS ${duckIdent(c.name)}`).join(', ')} FROM ${csv}`;
}

/**
 * DuckDB's CSV reader skips, without an error, a row longer than its line limit: rows are counted on both sides,
 * and a difference refuses the batch before its commit, naming the setting that raises the limit.
 */
export function miscounted(ctx: SourceContext, config: SqlSourceConfig, read: number, written: number): TributaryError {
  return new TributaryError(
    'INVALID_INPUT',
    `sources.${ctx.name}: ${read} row(s) read from ${config.table ?? 'the query'} but ${written} parsed: a row is longer than maxRowBytes (${config.maxRowBytes ?? 16 * 1024 * 1024} bytes as text); nothing was committed`,
    { hint: `raise sources.${ctx.name}.maxRowBytes` },
  );
}

export function scratch(ctx: SourceContext): string {
  const dir = path.join(ctx.lake.config.lakePath, '_tmp');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `sql-${ctx.name}-${newId('')}.csv`);
}
