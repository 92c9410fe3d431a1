import pg from 'pg';
import { TributaryError, errorMessage } from '../../errors.js';
import type { CatalogDriver, CatalogSession, Row, SqlValue } from '../driver.js';

const INT8_OID = 20;

/**
 * The catalog on a PostgreSQL server. Tables live in their own schema (search_path), so one database can hold
 * several catalogs. Concurrency between processes is handled by the catalog's row locks, not here.
 */
export class PostgresCatalogDriver implements CatalogDriver {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  readonly schema: string;
  private readonly pool: pg.Pool;

  constructor(url: string, schema: string) {
    const safe = new URL(url);
    if (safe.password) safe.password = '***';
    this.location = `${safe.toString()} (schema ${schema})`;
    this.schema = schema;
    const types = {
      getTypeParser: (oid: number, format?: string) =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    };
    this.pool = new pg.Pool({ connectionString: url, max: 4, types, options: `-c search_path=${schema}` });
    this.pool.on('error', () => undefined); // idle client errors surface on the next query instead
  }

  async transaction<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(session(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async read<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await fn(session(client));
    } finally {
      client.release();
    }
  }

  async bootstrap(session: CatalogSession): Promise<void> {
    // Two processes starting at once must not both run the DDL.
    await this.lock(session, 'migrate');
    await session.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
  }

  async lock(session: CatalogSession, key: string): Promise<void> {
    await session.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`tributary:${this.schema}:${key}`]);
  }

  async tryLock(session: CatalogSession, key: string): Promise<boolean> {
    const rows = await session.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [`tributary:${this.schema}:${key}`]);
    return rows[0]?.ok === true;
  }

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === '23505';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw new TributaryError('CATALOG_ERROR', `catalog ${this.location}: cannot connect: ${errorMessage(err)}`, { cause: err });
    }
  }
}

function session(client: pg.PoolClient): CatalogSession {
  return {
    async query<T extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      const result = await client.query(sql, params as SqlValue[]);
      return result.rows as T[];
    },
  };
}
