import { TributaryError } from '../../errors.js';

/**
 * What the `sql` source needs of a database, one implementation per server (postgres.ts, mysql.ts), as Kysely has
 * a dialect per backend: the columns of a SELECT with their types mapped to DuckDB's, the primary key, and the rows
 * of a SELECT streamed into a CSV file that DuckDB reads back with those types. The connector (connector.ts) writes
 * its SQL with the reader's quoting, literals and text conversion, so it is the same for every server.
 */
export interface SqlReader {
  /** The setting errors name, e.g. `sources.orders`. */
  readonly where: string;
  /** The columns a SELECT returns, with their types (no row is read). */
  columns(select: string): Promise<SqlColumn[]>;
  /** The primary key's columns, in order (none: an empty list). */
  primaryKey(table: string): Promise<string[]>;
  /** Rows of a query, as the driver returns them; errors name the source (a missing table or column by name). */
  query<R extends Record<string, unknown>>(sql: string): Promise<R[]>;
  /**
   * Streams the rows of a SELECT into a CSV file (no header, `"` quotes, NULL an unquoted empty field) and returns
   * how many it wrote, which the connector checks against what DuckDB reads back before anything is committed.
   */
  copy(select: string, file: string): Promise<number>;
  quoteIdent(name: string): string;
  /** `name` or `schema.name` (`database.name`), quoted. */
  tableRef(table: string): string;
  /** A literal of a column's type from the server's own text for it (a cursor value). */
  literal(value: string, sourceType: string): string;
  /** `expr` (a date or time) minus that many seconds. */
  minusSeconds(expr: string, seconds: number): string;
  /** A column's value as the server's text (cursor values are kept so, exactly). */
  asText(column: string): string;
  close(): Promise<void>;
}

/** A column as read: its type on the server, what DuckDB makes of it, and the expressions on either side. */
export interface SqlColumn {
  name: string;
  /** The server's name for the type, e.g. `numeric(12,2)`, `timestamp with time zone`, `int(10) unsigned`. */
  sourceType: string;
  /** The DuckDB type the lake stores. */
  duckType: string;
  /** The expression the server selects (the column, or a conversion to text DuckDB can read back exactly). */
  select: string;
  /** The expression DuckDB computes from the CSV's text value `v` (the quoted column name is given). */
  read: (v: string) => string;
  /**
   * When `select` converts the column, how DuckDB reads the server's own text output of it instead (what logical
   * replication sends): its type and expression. Absent: `duckType` and `read` apply to that text as they are.
   */
  fromText?: { duckType: string; read: (v: string) => string };
}

/** One CSV line as the connector's DuckDB reader expects it: every value quoted, NULL an unquoted empty field. */
export function csvLine(values: readonly unknown[]): string {
  return `${values.map((v) => (v === null || v === undefined ? '' : `"${String(v).replaceAll('"', '""')}"`)).join(',')}\n`;
}

/** The URL with its password masked, for messages and logs. */
export function maskUrl(url: string): string {
  // Up to the last '@' of the authority: a password may hold '@' itself.
  return url.replace(/^([a-z+]+:\/\/[^:/@]*):[^/]*@/i, '$1:***@');
}

/** The error for a server that cannot be reached: its host and port, never the password. */
export function unreachable(where: string, server: string, address: string, url: string, err: unknown): TributaryError {
  return new TributaryError('SOURCE_UNAVAILABLE', `${where}: cannot read ${server} at ${address}: ${err instanceof Error ? err.message : String(err)}`, {
    hint: `check that the server runs and the URL is right: ${maskUrl(url)}`,
    cause: err,
  });
}

/** The reader for a URL, by its scheme: postgres:// (postgresql://), mysql:// or mariadb://. */
export async function openReader(url: string, where: string): Promise<SqlReader> {
  if (/^postgres(ql)?:\/\//i.test(url)) return (await import('./postgres.js')).PostgresReader.connect(url, where);
  if (/^(mysql|mariadb):\/\//i.test(url)) return (await import('./mysql.js')).MySqlReader.connect(url, where);
  throw new TributaryError('CONFIG_INVALID', `${where}.url: expected a postgres://, mysql:// or mariadb:// URL (${maskUrl(url)})`);
}
