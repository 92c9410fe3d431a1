/**
 * Every failure a user can act on is a TributaryError: a stable machine-readable `code`, a one-line message that
 * names the file / table / option at fault, and an optional hint. The CLI prints exactly one line for these.
 */
export type ErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'ENV_MISSING'
  | 'TABLE_NAME_INVALID'
  | 'TABLE_NOT_FOUND'
  | 'SNAPSHOT_NOT_FOUND'
  | 'SOURCE_NOT_FOUND'
  | 'QUARANTINE_NOT_FOUND'
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'SQL_READ_ONLY'
  | 'SQL_ERROR'
  | 'CONFLICT'
  | 'COMMIT_CONFLICT'
  | 'ALREADY_INGESTED'
  | 'STREAM_POSITION_MOVED'
  | 'CATALOG_LOCKED'
  | 'CATALOG_ERROR'
  | 'IO_ERROR'
  | 'SOURCE_UNAVAILABLE'
  | 'LAKE_IO'
  | 'INGEST_FAILED'
  | 'CHECKS_FAILED'
  | 'MODEL_FAILED'
  | 'TASK_FAILED';

/**
 * What kind of failure a code is, which is what callers act on: the CLI's exit code and the API's HTTP status.
 * - invalid_input: a command's argument, an option, a request parameter, a record that cannot be encoded;
 * - invalid_config: the project's configuration (or a model's header);
 * - not_found: a table, snapshot, run, job, source… that does not exist;
 * - conflict: the state does not allow it now (a run already finished, a folder not empty, a commit that lost a race);
 * - unavailable: something outside is down or busy (the catalog locked, a disk, a server) — try again;
 * - failed: the work ran and failed (checks, a model, a task).
 */
export type ErrorCategory = 'invalid_input' | 'invalid_config' | 'not_found' | 'conflict' | 'unavailable' | 'failed';

export const ERROR_CATEGORIES: Record<ErrorCode, ErrorCategory> = {
  CONFIG_NOT_FOUND: 'not_found',
  CONFIG_INVALID: 'invalid_config',
  ENV_MISSING: 'invalid_config',
  TABLE_NAME_INVALID: 'invalid_input',
  TABLE_NOT_FOUND: 'not_found',
  SNAPSHOT_NOT_FOUND: 'not_found',
  SOURCE_NOT_FOUND: 'not_found',
  QUARANTINE_NOT_FOUND: 'not_found',
  NOT_FOUND: 'not_found',
  INVALID_INPUT: 'invalid_input',
  SQL_READ_ONLY: 'invalid_input',
  SQL_ERROR: 'invalid_input',
  CONFLICT: 'conflict',
  COMMIT_CONFLICT: 'conflict',
  ALREADY_INGESTED: 'conflict',
  STREAM_POSITION_MOVED: 'conflict',
  CATALOG_LOCKED: 'unavailable',
  CATALOG_ERROR: 'unavailable',
  IO_ERROR: 'unavailable',
  SOURCE_UNAVAILABLE: 'unavailable',
  LAKE_IO: 'unavailable',
  INGEST_FAILED: 'failed',
  CHECKS_FAILED: 'failed',
  MODEL_FAILED: 'failed',
  TASK_FAILED: 'failed',
};

/** The CLI's exit code per category (1 is also a run that finished with failures; 70 an internal error, EX_SOFTWARE). */
export const EXIT_CODES: Record<ErrorCategory | 'internal', number> = {
  failed: 1,
  invalid_input: 2,
  invalid_config: 3,
  not_found: 4,
  conflict: 5,
  unavailable: 6,
  internal: 70,
};

/** The API's HTTP status per category. */
export const HTTP_STATUSES: Record<ErrorCategory | 'internal', number> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  invalid_config: 500,
  failed: 500,
  internal: 500,
};

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.hint = options.hint;
  }

  get category(): ErrorCategory {
    return ERROR_CATEGORIES[this.code];
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The category of any error: a TributaryError's, or 'internal' for a bug (its stack is worth reporting). */
export function categoryOf(err: unknown): ErrorCategory | 'internal' {
  return err instanceof TributaryError ? err.category : 'internal';
}
