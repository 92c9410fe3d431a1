import type { CsvOptions, FileFormat } from '../../config/types.js';
import { fileLiteral } from '../../engine/engine.js';
import { quoteIdent, quoteLiteral } from '../../engine/sql.js';
import type { DiscoveredFile } from './files.js';

/** The column DuckDB adds with each row's file path; never stored. */
export const FILE_COLUMN = '__tributary_file';

/** Everything needed to read one batch of files of one shape. */
export interface ReadPlan {
  format: FileFormat;
  files: readonly DiscoveredFile[];
  csv: CsvOptions | undefined;
  /** Column → DuckDB type to convert to; rows that do not convert are rejects. */
  types: Record<string, string>;
  /** Unique per batch: names of DuckDB's temporary rejects tables (CSV). */
  rejectsId: string;
  /** CSV: the delimiter found in the files' header (they share it) when the config does not set one. */
  delimiter?: string;
}

export interface BatchMeta {
  source: string;
  batchId: string;
  ingestedAt: Date;
}

/** The read of the batch's files: DuckDB's CSV / JSON / Parquet readers, with each row's file path. */
export function sourceRelation(plan: ReadPlan): string {
  const files = `[${plan.files.map((f) => fileLiteral(f.absPath)).join(', ')}]`;
  if (plan.format === 'csv') {
    const csv = plan.csv ?? {};
    const opts = [`header = ${csv.header ?? true}`, `filename = '${FILE_COLUMN}'`, 'hive_partitioning = false'];
    // The dialect is stated, never guessed per batch: DuckDB sniffs the first file of a scan and reads the others
    // as if they were alike, so a later file quoted differently would fail the whole batch. RFC 4180 by default.
    const delimiter = csv.delimiter ?? plan.delimiter;
    if (delimiter !== undefined) opts.push(`delim = ${quoteLiteral(delimiter)}`);
    const quote = csv.quote ?? '"';
    opts.push(`quote = ${quoteLiteral(quote)}`, `escape = ${quoteLiteral(csv.escape ?? quote)}`);
    if (csv.encoding !== undefined) opts.push(`encoding = ${quoteLiteral(csv.encoding)}`);
    if (csv.skip !== undefined) opts.push(`skip = ${csv.skip}`);
    if (csv.maxLineSize !== undefined) opts.push(`max_line_size = ${csv.maxLineSize}`);
    if (csv.nullValues !== undefined) opts.push(`nullstr = [${csv.nullValues.map(quoteLiteral).join(', ')}]`);
    if (csv.dateFormat !== undefined) opts.push(`dateformat = ${quoteLiteral(csv.dateFormat)}`);
    if (csv.timestampFormat !== undefined) opts.push(`timestampformat = ${quoteLiteral(csv.timestampFormat)}`);
    const types = Object.entries(plan.types);
    if (types.length) opts.push(`types = {${types.map(([c, t]) => `${quoteLiteral(c)}: ${quoteLiteral(t)}`).join(', ')}}`);
    // Bad rows are kept aside by DuckDB with file, line, column and message instead of failing the read.
    opts.push(`store_rejects = true, rejects_table = 'rej_${plan.rejectsId}', rejects_scan = 'scan_${plan.rejectsId}'`);
    return `read_csv(${files}, ${opts.join(', ')})`;
  }
  if (plan.format === 'parquet') return `read_parquet(${files}, union_by_name = true, filename = '${FILE_COLUMN}', hive_partitioning = false)`;
  const format = plan.format === 'ndjson' ? 'newline_delimited' : 'auto';
  return `read_json(${files}, format = '${format}', union_by_name = true, filename = '${FILE_COLUMN}', hive_partitioning = false)`;
}

/** Maps DuckDB's file path to what bronze records: displayed path and content hash. */
function filesValues(plan: ReadPlan): string {
  const rows = plan.files.map((f) => `(${quoteLiteral(f.absPath)}, ${quoteLiteral(f.displayPath)}, ${quoteLiteral(f.hash)})`);
  return `(VALUES ${rows.join(', ')}) AS __f(path, source_file, file_hash)`;
}

/**
 * Lineage columns. One file: constants. Several: a join on DuckDB's file column with the list of files (faster than
 * per-row CASE or MAP lookups, but DuckDB's progress then tracks the tiny join build, so long single-file reads use
 * constants and show progress).
 */
function metaColumns(plan: ReadPlan, meta: BatchMeta): string {
  const single = plan.files.length === 1 ? plan.files[0]! : undefined;
  return [
    `CAST(${quoteLiteral(meta.ingestedAt.toISOString())} AS TIMESTAMPTZ) AS _ingested_at`,
    `${quoteLiteral(meta.source)} AS _source`,
    single ? `${quoteLiteral(single.displayPath)} AS _source_file` : `__f.source_file AS _source_file`,
    single ? `${quoteLiteral(single.hash)} AS _file_hash` : `__f.file_hash AS _file_hash`,
    `${quoteLiteral(meta.batchId)} AS _batch_id`,
  ].join(', ');
}

function filesJoin(plan: ReadPlan, fileColumn: string): string {
  return plan.files.length === 1 ? '' : ` JOIN ${filesValues(plan)} ON ${fileColumn} = __f.path`;
}

/** Non-CSV readers have no rejects store: declared types are applied with TRY_CAST and failures found by SQL. */
function castFailure(plan: ReadPlan): string | undefined {
  const checks = Object.entries(plan.types).map(
    ([col, type]) => `CASE WHEN src.${quoteIdent(col)} IS NOT NULL AND TRY_CAST(src.${quoteIdent(col)} AS ${type}) IS NULL THEN ${quoteLiteral(col)} END`,
  );
  return checks.length ? `coalesce(${checks.join(', ')})` : undefined;
}

/** The rows that go to the bronze table, with the lineage columns every bronze row carries. */
export function dataSelect(plan: ReadPlan, meta: BatchMeta): string {
  const join = filesJoin(plan, `src.${FILE_COLUMN}`);
  if (plan.format === 'csv') {
    return `SELECT src.* EXCLUDE (${FILE_COLUMN}), ${metaColumns(plan, meta)} FROM ${sourceRelation(plan)} AS src${join}`;
  }
  const types = Object.entries(plan.types);
  const replace = types.length ? ` REPLACE (${types.map(([c, t]) => `TRY_CAST(src.${quoteIdent(c)} AS ${t}) AS ${quoteIdent(c)}`).join(', ')})` : '';
  const failure = castFailure(plan);
  return `SELECT src.* EXCLUDE (${FILE_COLUMN})${replace}, ${metaColumns(plan, meta)} FROM ${sourceRelation(plan)} AS src${join}${failure ? ` WHERE ${failure} IS NULL` : ''}`;
}

/** Rejected rows of the batch, in the rejects table's shape; undefined when the format cannot have any. */
export function rejectsSelect(plan: ReadPlan, meta: BatchMeta): string | undefined {
  if (plan.format === 'csv') {
    return `SELECT ${metaColumns(plan, meta)}, CAST(e.line AS BIGINT) AS line, e.column_name, CAST(e.error_type AS VARCHAR) AS error_type,
                   e.error_message AS reason, e.csv_line AS raw_line
              FROM rej_${plan.rejectsId} e
              JOIN scan_${plan.rejectsId} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id${filesJoin(plan, 's.file_path')}`;
  }
  const failure = castFailure(plan);
  if (!failure) return undefined;
  return `SELECT ${metaColumns(plan, meta)}, line, column_name, 'CAST' AS error_type,
                 'Could not convert ' || column_name || ' to the declared type' AS reason, raw_line
            FROM (SELECT src.${FILE_COLUMN}, row_number() OVER (PARTITION BY src.${FILE_COLUMN}) AS line, ${failure} AS column_name,
                         CAST(to_json(src) AS VARCHAR) AS raw_line
                    FROM ${sourceRelation(plan)} AS src) AS r${filesJoin(plan, `r.${FILE_COLUMN}`)}
           WHERE column_name IS NOT NULL`;
}

export function dropRejectsTables(plan: ReadPlan): string[] {
  return plan.format === 'csv' ? [`DROP TABLE IF EXISTS rej_${plan.rejectsId}`, `DROP TABLE IF EXISTS scan_${plan.rejectsId}`] : [];
}
