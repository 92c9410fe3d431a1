import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { TributaryError, errorMessage } from '../../errors.js';
import { type SqlColumn, type SqlReader, unreachable } from './reader.js';

/**
 * Reading a PostgreSQL table: its columns' types, mapped to DuckDB's, and its rows streamed out by
 * `COPY (SELECT …) TO STDOUT` into a CSV file that DuckDB then reads with those types (memory stays flat whatever the
 * table's size: rows go from the socket to the file). Values the CSV text cannot carry exactly are converted on the
 * server side (bytea as base64, arrays as JSON, money as numeric) and back on DuckDB's side.
 */

export function quoteIdent(ident: string): string {
  return `"${ident.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `schema.table` or `table`, quoted. */
export function tableRef(table: string): string {
  return table.split('.').map(quoteIdent).join('.');
}

interface PgType {
  oid: number;
  typname: string;
  typtype: string;
  typcategory: string;
  typelem: number;
}

export class PostgresReader implements SqlReader {
  private constructor(
    private readonly client: pg.Client,
    readonly where: string,
    private readonly url: string,
  ) {}

  /** Connects; a server that cannot be reached is named by host and port, without the password. */
  static async connect(url: string, where: string): Promise<PostgresReader> {
    // Named after the source, so that a DBA sees who reads (pg_stat_activity).
    const client = new pg.Client({ connectionString: url, application_name: `tributary ${where}`.slice(0, 63) });
    client.on('error', () => undefined); // a connection lost between queries fails the next query instead
    try {
      await client.connect();
      // Text output DuckDB reads back exactly: ISO dates, UTC times, standard strings.
      await client.query(
        `SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; SET standard_conforming_strings = on; SET extra_float_digits = 3`,
      );
    } catch (err) {
      await client.end().catch(() => undefined);
      const { host, port, database } = client;
      throw unreachable(where, 'PostgreSQL', `${host}:${port} (database ${database})`, url, err);
    }
    return new PostgresReader(client, where, url);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /** Runs a query; errors name the source, and a missing table or column by its name. */
  quoteIdent(name: string): string {
    return quoteIdent(name);
  }

  tableRef(table: string): string {
    return tableRef(table);
  }

  literal(value: string, sourceType: string): string {
    return `CAST(${quoteLiteral(value)} AS ${sourceType})`;
  }

  asText(column: string): string {
    return `${column}::text`;
  }

  minusSeconds(expr: string, seconds: number): string {
    return `(${expr} - make_interval(secs => ${seconds}))`;
  }

  async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.client.query<R>(sql, params)).rows;
    } catch (err) {
      throw this.failure(err);
    }
  }

  failure(err: unknown): TributaryError {
    const code = (err as { code?: string }).code;
    const message = errorMessage(err);
    if (code === '42P01') return new TributaryError('NOT_FOUND', `${this.where}: ${message}`, { hint: 'check the table name (and its schema)', cause: err });
    if (code === '42703')
      return new TributaryError('CONFIG_INVALID', `${this.where}: ${message}`, { hint: 'check the columns named in the source', cause: err });
    return new TributaryError('SOURCE_UNAVAILABLE', `${this.where}: PostgreSQL failed: ${message}`, { cause: err });
  }

  /** The columns a SELECT returns, with their types (no row is read). */
  async columns(select: string): Promise<SqlColumn[]> {
    let fields: pg.FieldDef[];
    try {
      fields = (await this.client.query(`SELECT * FROM (${select}) AS t LIMIT 0`)).fields;
    } catch (err) {
      throw this.failure(err);
    }
    const oids = [...new Set(fields.map((f) => f.dataTypeID))];
    const types = new Map(
      (
        await this.query<{ oid: number; typname: string; typtype: string; typcategory: string; typelem: number }>(
          `SELECT oid::int AS oid, typname, typtype, typcategory, typelem::int AS typelem FROM pg_type WHERE oid = ANY($1::oid[]) OR oid IN (SELECT typelem FROM pg_type WHERE oid = ANY($1::oid[]))`,
          [oids],
        )
      ).map((t) => [Number(t.oid), t as PgType]),
    );
    const names = await this.query<{ i: number; name: string }>(
      `SELECT i::int AS i, format_type(t.oid, t.mod) AS name FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(oid, mod, i)`,
      [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
    );
    return fields.map((f, i) => mapColumn(f.name, names.find((n) => Number(n.i) === i + 1)!.name, f.dataTypeID, f.dataTypeModifier, types));
  }

  /**
   * Creates a logical replication slot (pgoutput) and exports its snapshot: rows read in that snapshot
   * (`copyInSnapshot`) and the changes the slot streams from its consistent point are exactly the table's history,
   * with nothing missed or repeated. The snapshot lives until `release`.
   */
  async createSlot(slot: string): Promise<{ consistentPoint: string; snapshot: string; release: () => Promise<void> }> {
    // A replication connection (`replication=database`, which `pg` passes through to the server; its types omit it).
    const options: pg.ClientConfig & { replication: string } = {
      connectionString: this.url,
      replication: 'database',
      application_name: `tributary ${this.where}`.slice(0, 63),
    };
    const replication = new pg.Client(options);
    replication.on('error', () => undefined);
    try {
      await replication.connect();
      const { rows } = await replication.query(`CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`);
      return { consistentPoint: rows[0].consistent_point, snapshot: rows[0].snapshot_name, release: () => replication.end().catch(() => undefined) };
    } catch (err) {
      await replication.end().catch(() => undefined);
      throw this.failure(err);
    }
  }

  /** `copy`, in a transaction reading the exported snapshot of a slot. */
  async copyInSnapshot(snapshot: string, select: string, file: string): Promise<number> {
    await this.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      await this.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`);
      const rows = await this.copy(select, file);
      await this.query('COMMIT');
      return rows;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** The primary key's columns, in order (none: an empty list). */
  async primaryKey(table: string): Promise<string[]> {
    const rows = await this.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
      [tableRef(table)],
    );
    return rows.map((r) => r.name);
  }

  /** Streams the rows of a SELECT into a CSV file (no header; NULL is an unquoted empty field). */
  async copy(select: string, file: string): Promise<number> {
    try {
      const rows = this.client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT csv)`));
      await pipeline(rows, createWriteStream(file));
      return rows.rowCount;
    } catch (err) {
      throw this.failure(err);
    }
  }
}

const SIMPLE: Record<string, string> = {
  bool: 'BOOLEAN',
  int2: 'SMALLINT',
  int4: 'INTEGER',
  int8: 'BIGINT',
  oid: 'UBIGINT',
  float4: 'FLOAT',
  float8: 'DOUBLE',
  date: 'DATE',
  time: 'TIME',
  timetz: 'TIMETZ',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
  interval: 'INTERVAL',
  uuid: 'UUID',
  json: 'JSON',
  jsonb: 'JSON',
  text: 'VARCHAR',
  varchar: 'VARCHAR',
  bpchar: 'VARCHAR',
  name: 'VARCHAR',
  char: 'VARCHAR',
  citext: 'VARCHAR',
  xml: 'VARCHAR',
};

/** DuckDB's type for a PostgreSQL type (element types of arrays included). */
function duckTypeOf(oid: number, mod: number, types: Map<number, PgType>): string {
  const t = types.get(oid);
  if (!t) return 'VARCHAR';
  if (t.typname === 'numeric') {
    // numeric(p,s): its typmod holds both; unconstrained numeric keeps 9 decimals (money never becomes DOUBLE).
    if (mod < 4) return 'DECIMAL(38,9)';
    const precision = ((mod - 4) >> 16) & 0xffff;
    const scale = (mod - 4) & 0xffff;
    return precision <= 38 ? `DECIMAL(${precision},${scale})` : 'VARCHAR';
  }
  if (t.typname === 'money') return 'DECIMAL(38,2)';
  if (t.typname === 'bytea') return 'BLOB';
  if (t.typcategory === 'A' && t.typelem) return `${duckTypeOf(t.typelem, -1, types)}[]`;
  if (t.typtype === 'e') return 'VARCHAR';
  return SIMPLE[t.typname] ?? 'VARCHAR';
}

function mapColumn(name: string, sourceType: string, oid: number, mod: number, types: Map<number, PgType>): SqlColumn {
  const duckType = duckTypeOf(oid, mod, types);
  const t = types.get(oid);
  const col = quoteIdent(name);
  // How DuckDB reads PostgreSQL's own text output of a converted column (what logical replication sends).
  const asText = { duckType: 'VARCHAR', read: (v: string) => v };
  // bytea as plain hex (base64 would be broken into lines), exact both ways.
  if (t?.typname === 'bytea')
    return {
      name,
      sourceType,
      duckType,
      select: `encode(${col}, 'hex') AS ${col}`,
      read: (v) => `unhex(${v})`,
      fromText: { duckType, read: (v) => `unhex(substr(${v}, 3))` },
    };
  if (t?.typname === 'money')
    return { name, sourceType, duckType, select: `${col}::numeric AS ${col}`, read: (v) => `CAST(${v} AS ${duckType})`, fromText: asText };
  if (t?.typcategory === 'A') {
    // Arrays as JSON, whose numbers DuckDB reads as doubles: arrays of decimals keep PostgreSQL's exact text instead.
    if (duckType.startsWith('DECIMAL')) return { name, sourceType, duckType: 'VARCHAR', select: `${col}::text AS ${col}`, read: (v) => v };
    return {
      name,
      sourceType,
      duckType,
      select: `array_to_json(${col})::text AS ${col}`,
      read: (v) => `CAST(CAST(${v} AS JSON) AS ${duckType})`,
      fromText: asText,
    };
  }
  if (t?.typname === 'bool') return { name, sourceType, duckType, select: col, read: (v) => `CASE ${v} WHEN 't' THEN true WHEN 'f' THEN false END` };
  // Text, enums and types DuckDB has no equivalent for (inet, geometry…): their text, as PostgreSQL writes it.
  if (duckType === 'VARCHAR') return { name, sourceType, duckType, select: col, read: (v) => v };
  return { name, sourceType, duckType, select: col, read: (v) => `CAST(${v} AS ${duckType})` };
}
