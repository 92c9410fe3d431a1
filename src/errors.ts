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
  | 'COMMIT_CONFLICT'
  | 'ALREADY_INGESTED'
  | 'CATALOG_LOCKED'
  | 'CATALOG_ERROR'
  | 'SOURCE_NOT_FOUND'
  | 'INGEST_FAILED'
  | 'QUARANTINE_NOT_FOUND'
  | 'SQL_READ_ONLY'
  | 'SQL_ERROR'
  | 'USAGE'
  | 'IO_ERROR'
  | 'LAKE_IO'
  | 'STREAM_POSITION_MOVED'
  | 'CHECKS_FAILED'
  | 'MODEL_FAILED'
  | 'TASK_FAILED';

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
