import type { SourceStateInput } from './stores/source-state.js';
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
  ingested?: IngestRecordInput[];
  /** Ingestion records to delete in the same transaction (previous versions of files whose rows were replaced). */
  forgetIngested?: { source: string; fileHash: string }[];
  resolveQuarantine?: number[];
  /** A stream's new position and state, saved with its output (exactly-once). */
  checkpoint?: StreamCheckpointInput;
  /** A cursor-style source's new state, saved with the rows it covers (exactly-once). */
  sourceState?: SourceStateInput;
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

export interface RunRecord {
  runId: string;
  kind: string;
  startedAt: Date;
  finishedAt: Date | undefined;
  status: string;
  summary: unknown;
  error: string | undefined;
  /** Job runs: the job, what triggered the run, and its partition. */
  job?: string;
  trigger?: string;
  partition?: string;
}
