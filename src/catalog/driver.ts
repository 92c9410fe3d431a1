/**
 * The catalog's only seam (Kysely's "driver"): run parameterised SQL and transactions. All catalog logic is
 * written once, in portable SQL understood by both DuckDB and PostgreSQL, against this interface.
 */
export type SqlValue = string | number | boolean | null;
export type Row = Record<string, unknown>;

export interface CatalogSession {
  /** Positional parameters are written `$1, $2…`. BIGINT comes back as number, TIMESTAMPTZ as Date. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
}

/**
 * What differs between the backends' SQL, in one place per backend (Kysely's DialectAdapter): the catalog's queries
 * are written once and ask the adapter for these fragments, never `if (postgres)`.
 */
export interface DialectAdapter {
  readonly name: string;
  /** Appended to a `SELECT … LIMIT 1` that claims a row: `FOR UPDATE OF <alias> SKIP LOCKED` where rows lock. */
  claimLocked(alias: string): string;
}

export interface CatalogDriver {
  readonly dialect: DialectAdapter;
  /** Where the catalog lives, for messages (a file path, or a URL without password). */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T>;
  /** Runs read-only work; each statement sees committed data. */
  read<T>(fn: (session: CatalogSession) => Promise<T>): Promise<T>;
  /** Backend-specific set-up run at the start of the migration transaction (schemas). */
  bootstrap(session: CatalogSession): Promise<void>;
  /** Serialises transactions that use the same key until they end (PostgreSQL advisory lock; the embedded catalog is single-writer already). */
  lock(session: CatalogSession, key: string): Promise<void>;
  /** Like `lock`, without waiting: false when another transaction holds the key. */
  tryLock(session: CatalogSession, key: string): Promise<boolean>;
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}
