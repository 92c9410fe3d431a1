import type { TributaryError } from '../errors.js';
import type { CatalogSession } from './driver.js';
/** Records the catalog stores, as the library returns them. */

export interface ColumnInfo {
  name: string;
  type: string;
}

export interface TableInfo {
  name: string;
  layer: string;
  table: string;
  createdAt: Date;
  partitionSpec: string | undefined;
  /** 0 while the table has no snapshot yet. */
  currentSnapshot: number;
  updatedAt: Date | undefined;
  rowCount: number;
  fileCount: number;
  sizeBytes: number;
}

export interface SnapshotInfo {
  table: string;
  snapshotId: number;
  parentId: number;
  /** append | overwrite | compact | … */
  operation: string;
  committedAt: Date;
  rowCount: number;
  fileCount: number;
  sizeBytes: number;
  schema: ColumnInfo[];
  runId: string | undefined;
  summary: Record<string, unknown> | undefined;
  expired: boolean;
}

export interface DataFileInput {
  /** Storage key, relative to the lake root. */
  path: string;
  rowCount: number;
  sizeBytes: number;
  partitionKey?: string;
}

export interface DataFile extends DataFileInput {
  partitionKey: string | undefined;
  addedSnapshot: number;
}

export interface TableChange {
  table: string;
  operation: string;
  addFiles: DataFileInput[];
  /** Files this commit replaces: 'all' live files (overwrite), or named ones (compaction). */
  removeFiles?: 'all' | string[];
  /** Fail with COMMIT_CONFLICT unless the table is still at this snapshot (0: no snapshot yet). */
  expectedSnapshot?: number;
  schema: ColumnInfo[];
  partitionSpec?: string;
  summary?: Record<string, unknown>;
}

export interface IngestRecordInput {
  source: string;
  fileHash: string;
  path: string;
  sizeBytes: number;
  table: string;
  batchId: string;
  ingestedAt: Date;
  rowCount: number;
  rejectedRows: number;
}

export interface IngestedFile extends IngestRecordInput {
  snapshotId: number;
  runId: string | undefined;
}

export interface CommitRequest {
  runId?: string;
  changes: TableChange[];
  /**
   * What the catalog's stores add to the same transaction: ingestion records (`catalog.ingestion.record`), a
   * source's new state (`catalog.sourceStates.advance`), a stream's checkpoint (`catalog.streams.advance`), a
   * quarantine entry resolved (`catalog.quarantine.resolveOnCommit`). The data and its state commit together or not
   * at all: that is what makes every kind of source and stream exactly-once.
   */
  parts?: CommitPart[];
}

/** What one commit wrote, as each part sees it once the tables have their new snapshots. */
export interface CommitContext {
  runId: string | undefined;
  /** The new snapshot of each table the commit changes. */
  snapshots: Record<string, number>;
}

/** Rows a store adds to a commit, written in its transaction after the tables' snapshots. */
export interface CommitPart {
  /** Writes the rows; throwing (a COMMIT_CONFLICT when a state moved) refuses the whole commit. */
  write(session: CatalogSession, commit: CommitContext): Promise<void>;
  /**
   * The error to report when the commit fails on a unique constraint: a concurrent writer recorded the same rows
   * first (a lost race). Absent: such a failure is not this part's.
   */
  lostRace?: ((err: unknown) => TributaryError) | undefined;
}

export interface StreamCheckpointInput {
  stream: string;
  /** 'live', or a replay's id. */
  run: string;
  topic: string;
  /** The checkpoint's sequence this commit follows (0: none yet); fails with COMMIT_CONFLICT if another worker moved it. */
  expectedSeq: number;
  /** Partition → next offset to read. */
  offsets: Record<string, number>;
  watermark: number | null;
  state: string;
}

export interface StreamCheckpoint {
  stream: string;
  run: string;
  seq: number;
  topic: string;
  offsets: Record<string, number>;
  watermark: Date | undefined;
  state: string;
  committedAt: Date;
}

export interface CommitResult {
  /** New snapshot id per table name. */
  snapshots: Record<string, number>;
}

export interface QuarantineInput {
  source: string;
  path: string;
  fileHash: string;
  storedPath?: string;
  table: string;
  reasonCode: string;
  reason: string;
  details?: unknown;
  runId?: string;
}

export interface QuarantineEntry {
  id: number;
  source: string;
  path: string;
  fileHash: string;
  storedPath: string | undefined;
  table: string;
  reasonCode: string;
  reason: string;
  details: unknown;
  quarantinedAt: Date;
  runId: string | undefined;
  status: 'open' | 'resolved' | 'superseded';
  resolvedAt: Date | undefined;
}

/**
 * A run's status. Job runs are `queued` until a worker takes their first task, and may be `cancelled`; a command's
 * run (ingest, run, check, build, stream) starts `running`, may end `partial`, and is `abandoned` once its process
 * is gone without finishing it.
 */
export type RunStatus = 'queued' | 'running' | 'success' | 'failed' | 'partial' | 'cancelled' | 'abandoned';

interface RunBase {
  runId: string;
  /** 'job' for a job's run; otherwise the command's: ingest, run, check, build, stream, replay… */
  kind: string;
  /** When it started (a job run: when it was queued). */
  startedAt: Date;
  finishedAt: Date | undefined;
  status: RunStatus;
  summary: unknown;
  error: string | undefined;
}

/** A run a command started (ingest, run, check, build, a stream). */
export interface CommandRunRecord extends RunBase {
  job?: undefined;
  trigger?: undefined;
  detail?: undefined;
  partition?: undefined;
  backfillId?: undefined;
  parentRun?: undefined;
}

/** A job's run: the job, what triggered it (schedule, sensor, backfill, manual, retry, automation) and why. */
export interface JobRunRecord extends RunBase {
  job: string;
  trigger: string;
  detail: string | undefined;
  partition: string | undefined;
  backfillId: string | undefined;
  /** The run this one retries. */
  parentRun: string | undefined;
}

/** One run, whoever started it: a job's (queued by a schedule, a sensor, a backfill, by hand) or a command's. */
export type RunRecord = CommandRunRecord | JobRunRecord;
