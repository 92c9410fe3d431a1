import type { z } from 'zod';
import type { Refusal } from './files/precheck.js';
import type { SchemaContract } from '../lake/config.js';
import type { Lake } from '../lake/lake.js';

/**
 * A source kind: how one kind of input (files, a SQL table, an HTTP API, scanned documents…) becomes rows of a bronze
 * table, exactly once. A connector
 * - validates its own config (`schema`, a zod schema whose `kind` is the connector's);
 * - plans what is new since the state committed by its last ingestion (`plan`: files not seen, rows past a cursor,
 *   pages after a token) — cheap, and used by workers to finish a task with nothing to do;
 * - ingests it (`ingest`): reads batches DuckDB writes straight to Parquet (a scan of files, or a relation filled from
 *   a cursor over the input: never the whole input in JS memory) and commits each batch together with the source's
 *   new state, in one catalog transaction, so that a crash between two batches repeats nothing and loses nothing.
 *
 * The file connector keeps its state as ingestion records (one per file content hash, with its rows); cursor-style
 * connectors keep a JSON state through `appendBatches` (see `sources/batches.ts`), versioned so that two runs of the
 * same source cannot both commit from the same state.
 *
 * Register one with `registerSourceKind` (sources/registry.ts); declare its config type for `defineConfig` by merging
 * it into `SourceKinds` (config/types.ts).
 */
export interface SourceConnector<C extends SourceConfigBase = SourceConfigBase> {
  readonly kind: C['kind'];
  /** Validates one source's config (after `${VAR}` interpolation); errors name the setting. */
  readonly schema: z.ZodType<C>;
  /** What is new, without reading it. */
  plan(ctx: SourceContext, config: C): Promise<SourcePlan>;
  /** The lake tables an ingestion writes, for the asset graph (default: `config.into`). */
  writes?(config: C): string[];
  /**
   * SQL over the lake that an ingestion runs to decide what to ask for (an HTTP lookup's keys): the tables these
   * queries read are upstream of the source's asset, so that a job runs it after what produces them. A query feeding
   * the source from what it lands itself (a gap backfill from the lake) is left out: it would make a cycle.
   */
  lakeQueries?(config: C): string[];
  /** Reads what is new into `config.into` and commits it with the source's state. */
  ingest(ctx: SourceContext, config: C): Promise<SourceReport>;
}

/** What every source's config has: its kind and the table it lands in (and, if it says, its schema contract). */
export interface SourceConfigBase {
  kind: string;
  /** Target lake table, `layer.table`. */
  into: string;
  /** What a batch may change in its table's schema (sources/schema-contract.ts); over the table's own. */
  schemaContract?: SchemaContract | undefined;
}

export interface SourceContext {
  lake: Lake;
  /** The source's name in `sources` (or `adhoc:<table>` for ad hoc files). */
  name: string;
  /** The run the ingestion is recorded under. */
  runId?: string;
  /** The date partition a job run processes (what `{partition}` in a file glob stands for). */
  partition?: string;
  /** Nothing to ingest is an error, not a warning (`--strict`). */
  strict?: boolean;
  onProgress?: (progress: IngestProgress) => void;
}

export interface SourcePlan {
  /** Nothing new: ingesting would commit nothing. */
  upToDate: boolean;
  /** What was found, for logs: "13 files, 12 unchanged, 1 still quarantined". */
  summary: string;
  warnings: string[];
}

export interface IngestProgress {
  source: string;
  phase: 'hashing' | 'reading' | 'committing';
  done: number;
  total: number;
}

export interface IngestOptions {
  runId?: string;
  /** The date partition a job run processes: what `{partition}` in the source's glob stands for. */
  partition?: string;
  /** A source whose glob matches no file is an error, not a warning. */
  strict?: boolean;
  onProgress?: (progress: IngestProgress) => void;
}

/** One unit of input committed: a file, or a batch of rows past a cursor. */
export interface IngestedOutcome {
  /** The file's path, or what the batch covers (e.g. `rows past id 1200`). */
  path: string;
  /** The file's content hash, or the hash of the state the batch committed. */
  hash: string;
  rows: number;
  rejectedRows: number;
  snapshotId: number;
  /** Rows of the file's previous version taken out of the table by this commit (`onChange: 'replace'`). */
  replacedRows: number;
}

export interface QuarantinedOutcome {
  id: number | undefined;
  path: string;
  /** A file's refusal (`Refusal['code']`), or another kind's reason (`invalid_json`, `no_records`). */
  reasonCode: Refusal['code'] | (string & {});
  reason: string;
}

/** What one source's ingestion did; every kind reports in these terms (a cursor source's units are its batches). */
export interface SourceReport {
  source: string;
  table: string;
  /** What the counts count, in the singular: 'file' for the file source, 'batch' (the default) for cursor sources. */
  unit: string;
  /** Units found: files matched, or batches read. */
  discovered: number;
  /** Units ingested before (idempotence by content hash or by state). */
  unchanged: number;
  /** Files still waiting in quarantine with the same content; not retried automatically. */
  stillQuarantined: { path: string; id: number }[];
  ingested: IngestedOutcome[];
  quarantined: QuarantinedOutcome[];
  /** Files that disappeared between discovery and reading: not ingested, not quarantined; a later run takes them. */
  skipped: { path: string; reason: string }[];
  /** Things worth a look that did not stop the run, e.g. a glob that matched no file. */
  warnings: string[];
  /**
   * What the ingestion changed in its table's schema, or dropped by its schema contract: `new column note (VARCHAR)`,
   * `column amount: BIGINT → DOUBLE`, `column coupon of the files dropped (… is 'discard_value')`.
   */
  schemaChanges: string[];
  rows: number;
  rejectedRows: number;
}

/** An empty report, for connectors to fill. */
export function emptyReport(source: string, table: string, unit = 'batch'): SourceReport {
  return {
    source,
    table,
    unit,
    discovered: 0,
    unchanged: 0,
    stillQuarantined: [],
    ingested: [],
    quarantined: [],
    skipped: [],
    warnings: [],
    schemaChanges: [],
    rows: 0,
    rejectedRows: 0,
  };
}
