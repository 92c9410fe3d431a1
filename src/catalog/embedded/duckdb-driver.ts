import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { TributaryError, errorMessage } from '../../errors.js';
import type { CatalogDriver, CatalogSession, DialectAdapter, Row, SqlValue } from '../driver.js';

/** How long an idle process keeps the catalog file (and its lock) before letting other processes in. */
const LINGER_MS = 250;

/**
 * The embedded catalog: one DuckDB database file. DuckDB lets one process hold a file open, so we hold it only
 * while busy: several CLI processes then share the catalog, each waiting its turn for the
 * file lock (bounded by `lockTimeoutMs`); within a process, all drivers of a file share one handle. DuckDB's write-ahead log makes each transaction atomic and durable, so a
 * process killed mid-commit leaves the previous state (recovered on next open).
 */
export class DuckDbCatalogDriver implements CatalogDriver {
  /** One writer at a time (the file lock): a claim needs no row lock. */
  readonly dialect: DialectAdapter = { name: 'duckdb', claimLocked: () => '' };
  readonly location: string;
  private readonly file: CatalogFile;
  private closed = false;

  constructor(file: string, options: { lockTimeoutMs?: number } = {}) {
    this.location = path.resolve(file);
    if (this.location.includes('?')) {
      // DuckDB reads what follows a '?' in a database path as connection parameters: its WAL would go elsewhere.
      throw new TributaryError('CONFIG_INVALID', `catalog: the embedded catalog ${this.location} cannot live in a folder whose path contains '?'`, {
        hint: 'move the project or its lake (lake.path) to a path without "?", or put the catalog on PostgreSQL (catalog: postgres://…)',
      });
    }
    mkdirSync(path.dirname(this.location), { recursive: true });
    this.file = CatalogFile.acquire(this.location, options.lockTimeoutMs ?? 60_000);
  }

  transaction<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T> {
    return this.file.exclusive(async (conn) => {
      await conn.run('BEGIN TRANSACTION');
      try {
        const result = await fn(session(conn));
        await conn.run('COMMIT');
        return result;
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  read<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T> {
    return this.file.exclusive((conn) => fn(session(conn)));
  }

  async bootstrap(): Promise<void> {
    // Nothing to do: one DuckDB file is one catalog.
  }

  async lock(): Promise<void> {
    // Nothing to do: the file lock already makes this process the only writer.
  }

  async tryLock(): Promise<boolean> {
    return true;
  }

  isUniqueViolation(err: unknown): boolean {
    return /Duplicate key|violates (primary key|unique) constraint/i.test(errorMessage(err));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.release();
  }
}

/**
 * One catalog file as this process holds it, shared by every driver opened on it here: DuckDB's file lock only
 * keeps other processes out, so two instances in one process would each cache, and write, their own view.
 * Serialises work within the process. The file stays open while operations follow each other closely (one
 * command's commits) and is released after `LINGER_MS` idle, so other processes get their turn.
 */
class CatalogFile {
  private static readonly open = new Map<string, CatalogFile>();
  private queue: Promise<unknown> = Promise.resolve();
  private held: { instance: DuckDBInstance; conn: DuckDBConnection } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private users = 0;

  private constructor(
    private readonly location: string,
    private readonly lockTimeoutMs: number,
  ) {}

  static acquire(location: string, lockTimeoutMs: number): CatalogFile {
    let file = CatalogFile.open.get(location);
    if (!file) CatalogFile.open.set(location, (file = new CatalogFile(location, lockTimeoutMs)));
    file.users++;
    return file;
  }

  async release(): Promise<void> {
    if (--this.users > 0) return;
    await this.queue.catch(() => undefined);
    // Someone acquired it again while we waited: it stays open, and in the map, for them.
    if (this.users > 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.closeHeld();
    CatalogFile.open.delete(this.location);
  }

  exclusive<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.queue
      .catch(() => undefined)
      .then(async () => {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
        if (!this.held) {
          const instance = await this.openFile();
          this.held = { instance, conn: await instance.connect() };
        }
        try {
          return await fn(this.held.conn);
        } finally {
          // Another process is waiting for the file: hand it over now rather than lingering.
          if (othersWaiting(this.location)) this.closeHeld();
          else {
            this.idleTimer = setTimeout(() => void this.queue.catch(() => undefined).then(() => this.idle()), LINGER_MS);
            this.idleTimer.unref();
          }
        }
      });
    this.queue = run;
    return run;
  }

  private idle(): void {
    if (this.idleTimer === undefined) return;
    this.closeHeld();
  }

  private closeHeld(): void {
    if (!this.held) return;
    this.held.conn.closeSync();
    this.held.instance.closeSync();
    this.held = undefined;
  }

  /**
   * Opens the file, waiting for the process holding it. Fairness: a process that had to wait says so with a marker
   * file; holders then release the file after each operation, and a process about to open it again first lets
   * waiters in (up to `YIELD_MS`). Without this, a process polling the catalog every second (`tributary dev`)
   * could keep the file to itself and starve the task processes it started.
   */
  private async openFile(): Promise<DuckDBInstance> {
    const deadline = Date.now() + this.lockTimeoutMs;
    for (const yieldUntil = Date.now() + YIELD_MS; othersWaiting(this.location) && Date.now() < yieldUntil; ) await sleep(10);
    let marked = false;
    try {
      for (let wait = 5; ; wait = Math.min(wait * 2, 50)) {
        try {
          return await DuckDBInstance.create(this.location, { threads: '1' });
        } catch (err) {
          if (!marked) {
            markWaiting(this.location);
            marked = true;
          }
          await this.retryOrThrow(err, deadline, wait);
        }
      }
    } finally {
      if (marked) unmarkWaiting(this.location);
    }
  }

  private async retryOrThrow(err: unknown, deadline: number, wait: number): Promise<void> {
    const message = errorMessage(err);
    if (!/Could not set lock/i.test(message)) {
      throw new TributaryError('CATALOG_ERROR', `catalog ${this.location}: ${message}`, { cause: err });
    }
    if (Date.now() > deadline) {
      const holder = /PID (\d+)/.exec(message)?.[1];
      throw new TributaryError(
        'CATALOG_LOCKED',
        `catalog ${this.location} is locked by another process${holder ? ` (PID ${holder})` : ''} for over ${Math.round(this.lockTimeoutMs / 1000)}s`,
        { hint: 'wait for it to finish, or use a PostgreSQL catalog for concurrent writers' },
      );
    }
    await sleep(wait);
  }
}

/** How long a process about to open the catalog lets waiting processes go first. */
const YIELD_MS = 500;

function waitDir(location: string): string {
  return `${location}.waiting`;
}

function markWaiting(location: string): void {
  mkdirSync(waitDir(location), { recursive: true });
  writeFileSync(path.join(waitDir(location), String(process.pid)), '');
}

function unmarkWaiting(location: string): void {
  rmSync(path.join(waitDir(location), String(process.pid)), { force: true });
}

/** Whether a live process other than this one is waiting for the file (markers of dead processes are removed). */
function othersWaiting(location: string): boolean {
  let names: string[];
  try {
    names = readdirSync(waitDir(location));
  } catch {
    return false;
  }
  for (const name of names) {
    const pid = Number(name);
    if (pid === process.pid || !Number.isInteger(pid)) continue;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      rmSync(path.join(waitDir(location), name), { force: true });
    }
  }
  return false;
}

function session(conn: DuckDBConnection): CatalogSession {
  return {
    async query<T extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      const reader = await conn.runAndReadAll(sql, params.map(toDuckDb));
      return reader.getRowObjectsJS().map((row) => normalise(row) as T);
    },
  };
}

function toDuckDb(value: SqlValue): DuckDBValue {
  // JS numbers would bind as DOUBLE; catalog numbers are integers, so bind them as BIGINT.
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return value;
}

function normalise(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}
