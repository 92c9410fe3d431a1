import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { TributaryError } from '../errors.js';
import type { EngineSettings } from '../config/types.js';
import type { ColumnInfo } from '../catalog/types.js';
import { quoteIdent, quoteLiteral } from './sql.js';

export type JsRow = Record<string, unknown>;

export interface QueryResult {
  columns: ColumnInfo[];
  rows: JsRow[];
}

/**
 * A DuckDB session: where all data work happens (reading sources, writing Parquet, answering SQL).
 * Data is streamed inside DuckDB; only results the user asked to see come into JS.
 */
export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(settings: EngineSettings & { tempDirectory?: string } = {}): Promise<Engine> {
    const options: Record<string, string> = {};
    if (settings.threads) options.threads = String(settings.threads);
    if (settings.memoryLimit) options.memory_limit = settings.memoryLimit;
    if (settings.tempDirectory) options.temp_directory = settings.tempDirectory;
    const instance = await DuckDBInstance.create(':memory:', options);
    const connection = await instance.connect();
    // Progress tracking (without DuckDB printing it) lets long writes report how far they are.
    await connection.run('SET enable_progress_bar = true');
    await connection.run('SET enable_progress_bar_print = false');
    return new Engine(instance, connection);
  }

  async run(sql: string, params?: DuckDBValue[]): Promise<void> {
    await this.connection.run(sql, params);
  }

  async all(sql: string, params?: DuckDBValue[], onProgress?: (percent: number) => void): Promise<JsRow[]> {
    const timer = onProgress
      ? setInterval(() => {
          const percent = this.connection.progress.percentage;
          if (percent >= 0) onProgress(percent);
        }, 250)
      : undefined;
    try {
      const reader = await this.connection.runAndReadAll(sql, params);
      return reader.getRowObjectsJS();
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  /** Runs a query and returns rows with their column types. */
  async query(sql: string, params?: DuckDBValue[]): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql, params);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    return { columns: names.map((name, i) => ({ name, type: types[i]!.toString() })), rows: reader.getRowObjectsJS() };
  }

  /**
   * Runs a query and returns rows as text-faithful JSON values: DATE as 'YYYY-MM-DD', timestamps and times as
   * DuckDB prints them, DECIMAL and big integers exactly (as text, or as numbers when `numbers` is set and the
   * value survives a double exactly), BLOB as its escaped text, never a byte object.
   */
  async queryJson(sql: string, options: { numbers?: boolean } = {}): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const columns = names.map((name, i) => ({ name, type: types[i]! }));
    return { columns, rows: reader.getRowObjectsJson().map((row) => (options.numbers ? exactNumbers(row, columns) : row)) };
  }

  /** Column names and types a SELECT would produce, without running it. */
  async describe(select: string): Promise<ColumnInfo[]> {
    const rows = await this.all(`DESCRIBE ${select}`);
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  }

  /**
   * Refuses anything but reads, the guard behind `tributary sql`. DuckDB's `json_serialize_sql` parses without
   * binding and only accepts SELECT statements (DESCRIBE, SHOW and SUMMARIZE included), so it is a parser-level check.
   */
  async assertReadOnly(sql: string): Promise<void> {
    const [row] = await this.all(`SELECT json_serialize_sql($1::VARCHAR) AS parsed`, [sql]);
    const parsed = JSON.parse(String(row!.parsed)) as { error?: boolean; error_message?: string; statements?: unknown[] };
    if (!parsed.error) {
      if (!parsed.statements?.length) throw new TributaryError('SQL_ERROR', 'SQL: empty statement');
      return;
    }
    const message = parsed.error_message ?? 'cannot parse';
    if (/Only SELECT statements/i.test(message)) {
      throw new TributaryError('SQL_READ_ONLY', 'SQL: only SELECT queries are allowed: `tributary sql` never writes to the lake', {
        hint: 'write to the lake through ingestion or models',
      });
    }
    throw new TributaryError('SQL_ERROR', `SQL: ${firstLine(message)}`);
  }

  /** Another connection to the same database: sees the same views, runs queries in parallel. */
  async connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** A SELECT over Parquet files; an empty file list yields an empty relation with the snapshot's schema. */
export function selectFiles(files: readonly string[], schema: readonly ColumnInfo[]): string {
  if (files.length === 0) {
    const cols = schema.length ? schema.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ') : 'NULL AS "empty"';
    return `SELECT ${cols} WHERE false`;
  }
  const list = files.map(fileLiteral).join(', ');
  return `SELECT * FROM read_parquet([${list}], union_by_name = true, hive_partitioning = false)`;
}

/**
 * A file path as a SQL literal that DuckDB's readers take as exactly that file. DuckDB expands `*`, `?` and `[…]`
 * in every path it reads (`sales[1].csv` would read `sales1.csv`), and has no escape character: each of them is
 * wrapped in a one-character class (`[[]`, `[*]`, `[?]`), which matches only itself. Braces are not expanded.
 */
export function fileLiteral(file: string): string {
  return quoteLiteral(/[*?[]/.test(file) ? file.replace(/[*?[]/g, (c) => `[${c}]`) : file);
}

const EXACT_NUMBER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DECIMAL)/i;

/** True when the number's text survives a round trip through a double (otherwise it stays text: no silent rounding). */
export function exactlyDouble(text: string): boolean {
  const n = Number(text);
  if (!Number.isFinite(n)) return false;
  const normal = (s: string) =>
    s
      .replace(/^(-?)0+(?=\d)/, '$1')
      .replace(/(\.\d*?)0+$/, '$1')
      .replace(/\.$/, '');
  return normal(String(n)) === normal(text);
}

/** Integer and decimal columns' text values as numbers where exact (JSON output). */
export function exactNumbers(row: Record<string, unknown>, columns: readonly ColumnInfo[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    out[c.name] = typeof v === 'string' && EXACT_NUMBER.test(c.type) && exactlyDouble(v) ? Number(v) : v;
  }
  return out;
}

export function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}
