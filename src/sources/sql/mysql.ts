import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mariadb, { type Connection } from 'mariadb';
import { TributaryError, errorMessage } from '../../errors.js';
import { newId } from '../../util/ids.js';
import { csvLine, type SqlColumn, type SqlReader, unreachable } from './reader.js';

/**
 * Reading a MySQL or MariaDB table with MariaDB's connector (which speaks to both): columns' types from
 * `SHOW COLUMNS` (`tinyint(1)`, `int unsigned`, `decimal(12,2)` as the server declares them), rows streamed with
 * every value selected as the server's text and written as CSV by a stream transform, so memory stays flat.
 */

export function quoteIdent(ident: string): string {
  return `\`${ident.replaceAll('`', '``')}\``;
}

/** A string literal for a session that treats backslashes as escapes (the reader's sessions do). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

export function tableRef(table: string): string {
  return table.split('.').map(quoteIdent).join('.');
}

export class MySqlReader implements SqlReader {
  private constructor(
    private readonly conn: Connection,
    readonly where: string,
  ) {}

  static async connect(url: string, where: string): Promise<MySqlReader> {
    const u = new URL(url);
    const port = Number(u.port || 3306);
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined;
    let conn: Connection;
    try {
      conn = await mariadb.createConnection({
        host: u.hostname,
        port,
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        ...(database ? { database } : {}),
        charset: 'utf8mb4',
        connectTimeout: 10_000,
        // Named after the source in the server's process list.
        connectAttributes: { program_name: `tributary ${where}` },
      });
    } catch (err) {
      throw unreachable(where, 'MySQL/MariaDB', `${u.hostname}:${port}${database ? ` (database ${database})` : ''}`, url, err);
    }
    const reader = new MySqlReader(conn, where);
    try {
      // Times in UTC (TIMESTAMP columns are instants); backslashes as escapes, as quoteLiteral writes them.
      await reader.query(`SET time_zone = '+00:00', sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')`);
    } catch (err) {
      await reader.close();
      throw err;
    }
    return reader;
  }

  async close(): Promise<void> {
    await this.conn.end().catch(() => undefined);
  }

  quoteIdent(name: string): string {
    return quoteIdent(name);
  }

  tableRef(table: string): string {
    return tableRef(table);
  }

  literal(value: string, sourceType: string): string {
    const t = sourceType.toLowerCase();
    const lit = quoteLiteral(value);
    if (/^(tiny|small|medium|big)?int/.test(t)) return `CAST(${lit} AS ${t.includes('unsigned') ? 'UNSIGNED' : 'SIGNED'})`;
    if (/^(decimal|numeric)/.test(t)) return `CAST(${lit} AS ${t.replace('numeric', 'decimal').replace(/ unsigned| zerofill/g, '')})`;
    if (/^(datetime|timestamp)/.test(t)) return `CAST(${lit} AS DATETIME(6))`;
    if (t === 'date') return `CAST(${lit} AS DATE)`;
    return lit;
  }

  asText(column: string): string {
    return `CAST(${column} AS CHAR)`;
  }

  minusSeconds(expr: string, seconds: number): string {
    return `(${expr} - INTERVAL ${seconds} SECOND)`;
  }

  async query<R extends Record<string, unknown>>(sql: string): Promise<R[]> {
    try {
      return (await this.conn.query({ sql, bigIntAsNumber: false, decimalAsNumber: false, dateStrings: true })) as R[];
    } catch (err) {
      throw this.failure(err);
    }
  }

  failure(err: unknown): TributaryError {
    const errno = (err as { errno?: number }).errno;
    const message = (err as { sqlMessage?: string }).sqlMessage ?? errorMessage(err);
    if (errno === 1146) return new TributaryError('NOT_FOUND', `${this.where}: ${message}`, { hint: 'check the table name (and its database)', cause: err });
    if (errno === 1054) return new TributaryError('CONFIG_INVALID', `${this.where}: ${message}`, { hint: 'check the columns named in the source', cause: err });
    return new TributaryError('SOURCE_UNAVAILABLE', `${this.where}: MySQL/MariaDB failed: ${message}`, { cause: err });
  }

  async columns(select: string): Promise<SqlColumn[]> {
    // The server's own declaration of each column: a temporary table shaped like the SELECT, with no row.
    const probe = quoteIdent(`_tributary_probe_${newId('').replace(/\W/g, '')}`);
    await this.query(`CREATE TEMPORARY TABLE ${probe} AS SELECT * FROM (${select}) AS q LIMIT 0`);
    try {
      const rows = await this.query<{ Field: string; Type: string }>(`SHOW COLUMNS FROM ${probe}`);
      return rows.map((r) => mapColumn(r.Field, r.Type));
    } finally {
      await this.query(`DROP TEMPORARY TABLE IF EXISTS ${probe}`);
    }
  }

  async primaryKey(table: string): Promise<string[]> {
    const rows = await this.query<{ Column_name: string; Seq_in_index: number }>(`SHOW KEYS FROM ${tableRef(table)} WHERE Key_name = 'PRIMARY'`);
    return rows.sort((a, b) => Number(a.Seq_in_index) - Number(b.Seq_in_index)).map((r) => r.Column_name);
  }

  async copy(select: string, file: string): Promise<number> {
    let count = 0;
    const toCsv = new Transform({
      objectMode: true,
      transform(row: unknown[], _encoding, done) {
        count++;
        done(null, csvLine(row));
      },
    });
    try {
      const rows = this.conn.queryStream({ sql: select, rowsAsArray: true, bigIntAsNumber: false, decimalAsNumber: false, dateStrings: true });
      await pipeline(rows, toCsv, createWriteStream(file));
      return count;
    } catch (err) {
      throw this.failure(err);
    }
  }
}

/** DuckDB's type for a column type as MySQL declares it, e.g. `int(10) unsigned`, `decimal(12,2)`, `tinyint(1)`. */
function mapColumn(name: string, sourceType: string): SqlColumn {
  const t = sourceType.toLowerCase();
  const col = quoteIdent(name);
  const text = `CAST(${col} AS CHAR) AS ${col}`;
  const typed = (duckType: string, read: (v: string) => string = (v) => `CAST(${v} AS ${duckType})`): SqlColumn => ({
    name,
    sourceType,
    duckType,
    select: text,
    read,
  });
  const unsigned = t.includes('unsigned');
  // Zero dates ('0000-00-00', which MySQL allows) have no value in any calendar: they are read as NULL.
  const dateLike = (duckType: string, suffix = '') =>
    typed(duckType, (v) => `CASE WHEN ${v} LIKE '0000-00-00%' THEN NULL ELSE CAST(${v}${suffix} AS ${duckType}) END`);
  if (/^tinyint\(1\)/.test(t)) return typed('BOOLEAN', (v) => `CAST(${v} AS INTEGER) <> 0`);
  if (t.startsWith('tinyint')) return typed(unsigned ? 'UTINYINT' : 'TINYINT');
  if (t.startsWith('smallint')) return typed(unsigned ? 'USMALLINT' : 'SMALLINT');
  if (t.startsWith('mediumint') || t.startsWith('int')) return typed(unsigned ? 'UINTEGER' : 'INTEGER');
  if (t.startsWith('bigint')) return typed(unsigned ? 'UBIGINT' : 'BIGINT');
  const decimal = /^(decimal|numeric)\((\d+)(?:,(\d+))?\)/.exec(t);
  if (decimal) {
    const [p, s] = [Number(decimal[2]), Number(decimal[3] ?? 0)];
    return p <= 38 ? typed(`DECIMAL(${p},${s})`) : typed('VARCHAR', (v) => v);
  }
  if (t.startsWith('float')) return typed('FLOAT');
  if (t.startsWith('double') || t.startsWith('real')) return typed('DOUBLE');
  if (t.startsWith('bit')) return { name, sourceType, duckType: 'UBIGINT', select: `CAST(${col} AS UNSIGNED) AS ${col}`, read: (v) => `CAST(${v} AS UBIGINT)` };
  if (t === 'date') return dateLike('DATE');
  if (t.startsWith('datetime')) return dateLike('TIMESTAMP');
  if (t.startsWith('timestamp')) return dateLike('TIMESTAMPTZ', " || '+00'");
  if (t.startsWith('time')) return typed('TIME');
  if (t.startsWith('year')) return typed('SMALLINT');
  if (t === 'json') return typed('JSON');
  if (/^(binary|varbinary|tinyblob|blob|mediumblob|longblob)/.test(t)) {
    return { name, sourceType, duckType: 'BLOB', select: `HEX(${col}) AS ${col}`, read: (v) => `unhex(${v})` };
  }
  // char, varchar, the text types, enum, set, and what DuckDB has no equivalent for: the server's text.
  return typed('VARCHAR', (v) => v);
}
