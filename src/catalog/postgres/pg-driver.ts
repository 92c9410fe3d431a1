import pg from 'pg';
import { TributaryError, errorMessage } from '../../errors.js';
import type { CatalogDriver, CatalogSession, DialectAdapter, Row, SqlValue } from '../driver.js';

const INT8_OID = 20;

/**
 * The catalog on a PostgreSQL server. Tables live in their own schema (search_path), so one database can hold
 * several catalogs. Concurrency between processes is handled by the catalog's row locks, not here.
 */
export class PostgresCatalogDriver implements CatalogDriver {
  /** Concurrent workers claim different rows: a locked row is skipped, not waited for. */
  readonly dialect: DialectAdapter = { name: 'postgres', claimLocked: (alias) => `FOR UPDATE OF ${alias} SKIP LOCKED` };
  readonly location: string;
  readonly schema: string;
  private readonly pool: pg.Pool;

  constructor(url: string, schema: string) {
    const safe = new URL(url);
    if (safe.password) safe.password = '***';
    this.location = `${safe.toString()} (schema ${schema})`;
    this.schema = schema;
    const types = {
      getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')),
    };
    this.pool = new pg.Pool({ connectionString: url, max: 4, types, options: `-c search_path=${schema}`, application_name: 'tributary catalog' });
    // A server restart makes every client emit 'error': without a listener Node kills the process. Idle clients'
    // errors are the pool's; a checked-out client's error rejects its query, which is reported below.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  async transaction<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let result: T;
    try {
      await client.query('BEGIN');
      result = await fn(session(client));
      await client.query('COMMIT');
    } catch (err) {
      if (!isConnectionError(err)) await client.query('ROLLBACK').catch(() => undefined);
      client.release(isConnectionError(err) ? (err as Error) : undefined);
      throw this.named(err);
    }
    client.release();
    return result;
  }

  async read<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      const result = await fn(session(client));
      client.release();
      return result;
    } catch (err) {
      client.release(isConnectionError(err) ? (err as Error) : undefined);
      throw this.named(err);
    }
  }

  /** A lost connection (server restarted or gone) as one line naming the server; other errors as they are. */
  private named(err: unknown): unknown {
    if (!isConnectionError(err)) return err;
    return new TributaryError('CATALOG_ERROR', `catalog ${this.location}: the connection to the server was lost: ${errorMessage(err)}`, {
      hint: 'the server restarted or went away; run the command again once it is up',
      cause: err,
    });
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

/** Errors of the connection itself, not of a statement: the server shut down, restarted or could not be reached. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  // 57P01-57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
  if (/^(57P0[123]|08)/.test(code) || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  return typeof e?.message === 'string' && /Connection terminated|connection .*closed|Client has encountered a connection error/i.test(e.message);
}

function session(client: pg.PoolClient): CatalogSession {
  return {
    async query<T extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      const result = await client.query(sql, params as SqlValue[]);
      return result.rows as T[];
    },
  };
}
