import path from 'node:path';
import type { TableChange } from '../catalog/types.js';
import type { ErrorPolicy, FileFormat, FileSourceConfig } from '../config/types.js';
import { firstLine } from '../engine/engine.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Lake, WrittenFiles } from '../lake/lake.js';
import { parseTableName, quoteLiteral } from '../lake/table-name.js';
import { newId } from '../util/ids.js';
import { discover, displayPath, fingerprint, formatFromPath, mapLimit, readHead, type DiscoveredFile } from './files.js';
import { checkHead, csvHeader, declaredColumns, duplicateColumns, reservedColumns, validateColumns, type Refusal } from './precheck.js';
import { dataSelect, dropRejectsTables, FILE_COLUMN, rejectsSelect, sourceRelation, type BatchMeta, type ReadPlan } from './read-sql.js';

/** A batch is read by one DuckDB scan and committed as one snapshot; bounded so progress and commits are regular. */
const BATCH_MAX_BYTES = 1024 * 1024 * 1024;
const BATCH_MAX_FILES = 1000;

export interface IngestProgress {
  source: string;
  phase: 'hashing' | 'reading' | 'committing';
  done: number;
  total: number;
}

export interface IngestOptions {
  runId?: string;
  onProgress?: (progress: IngestProgress) => void;
}

export interface IngestedOutcome {
  path: string;
  hash: string;
  rows: number;
  rejectedRows: number;
  snapshotId: number;
}

export interface QuarantinedOutcome {
  id: number | undefined;
  path: string;
  reasonCode: Refusal['code'];
  reason: string;
}

export interface SourceReport {
  source: string;
  table: string;
  discovered: number;
  /** Files whose content was ingested before (idempotence by hash). */
  unchanged: number;
  /** Files still waiting in quarantine with the same content; not retried automatically. */
  stillQuarantined: { path: string; id: number }[];
  ingested: IngestedOutcome[];
  quarantined: QuarantinedOutcome[];
  rows: number;
  rejectedRows: number;
}

/** The name under which ad hoc ingestion into a table records its files. */
export function adhocSourceName(table: string): string {
  return `adhoc:${table}`;
}

/**
 * Ingests one file source into its bronze table: discover, hash, skip what was ingested, check, read in batches
 * through DuckDB straight to Parquet, route bad rows and bad files per policy, and commit each batch atomically
 * together with its ingestion records.
 */
export async function ingestSource(
  lake: Lake,
  name: string,
  source: FileSourceConfig,
  options: IngestOptions & { explicitFiles?: DiscoveredFile[]; retryQuarantineId?: number } = {},
): Promise<SourceReport> {
  const table = parseTableName(source.into, `sources.${name}.into`).name;
  const policy: ErrorPolicy = source.onError ?? 'reject';
  const report: SourceReport = { source: name, table, discovered: 0, unchanged: 0, stillQuarantined: [], ingested: [], quarantined: [], rows: 0, rejectedRows: 0 };
  const progress = (phase: IngestProgress['phase'], done: number, total: number) => options.onProgress?.({ source: name, phase, done, total });

  // 1. Discover and fingerprint; skip known content.
  const heads = new Map<string, Buffer>();
  let candidates: DiscoveredFile[];
  if (options.explicitFiles) {
    candidates = options.explicitFiles;
    report.discovered = candidates.length;
  } else {
    const paths = await discover(source.glob, lake.config.projectDir);
    report.discovered = paths.length;
    const known = await lake.catalog.ingestedHashes(name);
    const quarantined = await lake.catalog.openQuarantineHashes(name);
    let hashed = 0;
    const prints = await mapLimit(paths, 4, async (absPath) => {
      const print = await fingerprint(absPath);
      progress('hashing', ++hashed, paths.length);
      return { absPath, ...print };
    });
    candidates = [];
    for (const { absPath, sizeBytes, hash, head } of prints) {
      const file = { absPath, displayPath: displayPath(absPath, lake.config.projectDir), sizeBytes, hash };
      if (known.has(hash)) report.unchanged++;
      else if (quarantined.has(hash)) report.stillQuarantined.push({ path: file.displayPath, id: quarantined.get(hash)! });
      else if (heads.has(hash)) report.unchanged++; // the same content twice in one run: ingest it once
      else {
        candidates.push(file);
        heads.set(hash, head);
      }
    }
  }

  const ctx: Ctx = { lake, name, source, table, policy, report, options, done: 0, total: candidates.reduce((n, f) => n + f.sizeBytes, 0) };

  // 2. Cheap checks per file, then group files of one shape so that one DuckDB scan reads them all.
  const groups = new Map<string, { format: FileFormat; files: DiscoveredFile[]; columns: string[] }>();
  for (const file of candidates) {
    const format = source.format ?? formatFromPath(file.absPath, `sources.${name}`);
    const head = heads.get(file.hash) ?? (await readHead(file.absPath));
    let refusal = checkHead(head, file.sizeBytes, format, source.csv);
    let columns: string[] = [];
    if (!refusal) {
      if (format === 'csv') {
        const header = csvHeader(head, source.csv);
        columns = source.csv?.header === false ? header.fields.map((_, i) => `column${i}`) : header.fields;
        refusal = duplicateColumns(columns) ?? reservedColumns(columns) ?? validateColumns(columns, source.schema, header.delimiter);
      } else {
        try {
          columns = (await lake.engine.describe(`SELECT * FROM ${sourceRelation({ format, files: [file], csv: undefined, types: {}, rejectsId: 'x' })}`))
            .map((c) => c.name)
            .filter((c) => c !== FILE_COLUMN);
          refusal = reservedColumns(columns) ?? validateColumns(columns, source.schema);
        } catch (err) {
          refusal = { code: 'unreadable', reason: firstLine(errorMessage(err)) };
        }
      }
    }
    if (refusal) {
      await refuse(ctx, file, refusal);
      continue;
    }
    const key = format === 'csv' ? `csv\u0000${columns.join('\u0001')}` : format;
    const group = groups.get(key) ?? { format, files: [], columns };
    group.files.push(file);
    groups.set(key, group);
  }

  // 3. Read, route bad input, commit, batch by batch.
  for (const group of groups.values()) {
    for (const batch of batches(group.files)) {
      const declared = declaredTypes(source, group.columns);
      await ingestBatch(ctx, group.format, batch, declared, {});
    }
  }
  return report;
}

interface Ctx {
  lake: Lake;
  name: string;
  source: FileSourceConfig;
  table: string;
  policy: ErrorPolicy;
  report: SourceReport;
  options: IngestOptions & { retryQuarantineId?: number };
  done: number;
  total: number;
}

function* batches(files: DiscoveredFile[]): Generator<DiscoveredFile[]> {
  let current: DiscoveredFile[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length && (bytes + file.sizeBytes > BATCH_MAX_BYTES || current.length >= BATCH_MAX_FILES)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.sizeBytes;
  }
  if (current.length) yield current;
}

/** Declared types for the columns this group of files has (DuckDB refuses types for absent columns). */
function declaredTypes(source: FileSourceConfig, columns: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of declaredColumns(source.schema)) if (spec.type && columns.includes(name)) out[name] = spec.type;
  return out;
}

interface RejectSummary {
  path: string;
  line: number;
  column: string | null;
  errorType: string;
  reason: string;
}

async function ingestBatch(ctx: Ctx, format: FileFormat, files: DiscoveredFile[], declared: Record<string, string>, widened: Record<string, string>): Promise<void> {
  const { lake } = ctx;
  const meta: BatchMeta = { source: ctx.name, batchId: newId('b'), ingestedAt: new Date() };
  const plan: ReadPlan = { format, files, csv: ctx.source.csv, types: { ...declared, ...widened }, rejectsId: meta.batchId.replace(/[^A-Za-z0-9]/g, '_') };
  const bytes = files.reduce((n, f) => n + f.sizeBytes, 0);
  ctx.options.onProgress?.({ source: ctx.name, phase: 'reading', done: ctx.done, total: ctx.total });

  let written: WrittenFiles;
  try {
    written = await lake.writeFiles(ctx.table, dataSelect(plan, meta));
  } catch (err) {
    for (const sql of dropRejectsTables(plan)) await lake.engine.run(sql).catch(() => undefined);
    if (files.length > 1) {
      // One unreadable file fails the whole scan: isolate it by reading the files one by one.
      for (const file of files) await ingestBatch(ctx, format, [file], declared, widened);
      return;
    }
    await refuse(ctx, files[0]!, { code: 'unreadable', reason: readErrorReason(err) });
    ctx.done += bytes;
    return;
  }

  const discard = async () => {
    await lake.storage.delete(written.files.map((f) => f.path));
    for (const sql of dropRejectsTables(plan)) await lake.engine.run(sql).catch(() => undefined);
  };
  try {
    const rejects = await listRejects(ctx, plan, meta);
    // An inferred type that later rows do not fit is the sampler's mistake, not the data's: widen to text and re-read.
    const widen = [...new Set(rejects.filter((r) => r.errorType === 'CAST' && r.column && !(r.column in declared) && !(r.column in widened)).map((r) => r.column!))];
    if (widen.length && format === 'csv') {
      await discard();
      await ingestBatch(ctx, format, files, declared, { ...widened, ...Object.fromEntries(widen.map((c) => [c, 'VARCHAR'])) });
      return;
    }
    if (rejects.length && ctx.policy === 'fail') {
      await discard();
      const r = rejects[0]!;
      throw new TributaryError('INGEST_FAILED', `${r.path}: line ${r.line}${r.column ? `, column ${r.column}` : ''}: ${r.reason}`, {
        hint: `source ${ctx.name} has onError: 'fail'; use 'reject' to keep going and collect bad rows`,
      });
    }
    if (rejects.length && ctx.policy === 'quarantine') {
      await discard();
      const bad = new Set(rejects.map((r) => r.path));
      for (const file of files.filter((f) => bad.has(f.displayPath))) {
        const mine = rejects.filter((r) => r.path === file.displayPath);
        const lines = new Set(mine.map((r) => r.line));
        await refuse(ctx, file, {
          code: 'rows_rejected',
          reason: `${lines.size} row(s) could not be read, first at line ${mine[0]!.line}: ${mine[0]!.reason}`,
          details: { rejects: mine.slice(0, 20) },
        });
      }
      const good = files.filter((f) => !bad.has(f.displayPath));
      if (good.length) await ingestBatch(ctx, format, good, declared, widened);
      return;
    }

    const changes: TableChange[] = [lake.change(written, 'append', { batchId: meta.batchId, files: files.length })];
    const rejectedRowsByFile = new Map<string, number>();
    if (rejects.length) {
      const select = rejectsSelect(plan, meta)!;
      const rejectsTable = `${ctx.table}_rejects`;
      changes.push(lake.change(await lake.writeFiles(rejectsTable, select), 'append', { batchId: meta.batchId }));
      for (const file of files) {
        rejectedRowsByFile.set(file.hash, new Set(rejects.filter((r) => r.path === file.displayPath).map((r) => r.line)).size);
      }
    }
    const rowsByFile = await countRowsByFile(ctx, written, files);
    ctx.options.onProgress?.({ source: ctx.name, phase: 'committing', done: ctx.done, total: ctx.total });
    let result;
    try {
      result = await lake.commit({
        ...(ctx.options.runId ? { runId: ctx.options.runId } : {}),
        changes,
        ingested: files.map((f) => ({
          source: ctx.name,
          fileHash: f.hash,
          path: f.displayPath,
          sizeBytes: f.sizeBytes,
          table: ctx.table,
          batchId: meta.batchId,
          ingestedAt: meta.ingestedAt,
          rowCount: rowsByFile.get(f.hash) ?? 0,
          rejectedRows: rejectedRowsByFile.get(f.hash) ?? 0,
        })),
        ...(ctx.options.retryQuarantineId !== undefined ? { resolveQuarantine: [ctx.options.retryQuarantineId] } : {}),
      });
    } catch (err) {
      // Another process committed some of these files first (same source, same content): they are ingested, once.
      // Our copy was discarded by the failed commit; go on with the files that are still new.
      if (!(err instanceof TributaryError) || err.code !== 'ALREADY_INGESTED') throw err;
      const known = await lake.catalog.ingestedHashes(ctx.name);
      const rest = files.filter((f) => !known.has(f.hash));
      if (rest.length === files.length) throw err;
      ctx.report.unchanged += files.length - rest.length;
      if (rest.length) await ingestBatch(ctx, format, rest, declared, widened);
      return;
    }
    for (const f of files) {
      const rows = rowsByFile.get(f.hash) ?? 0;
      const rejected = rejectedRowsByFile.get(f.hash) ?? 0;
      ctx.report.ingested.push({ path: f.displayPath, hash: f.hash, rows, rejectedRows: rejected, snapshotId: result.snapshots[ctx.table]! });
      ctx.report.rows += rows;
      ctx.report.rejectedRows += rejected;
    }
    ctx.done += bytes;
  } finally {
    for (const sql of dropRejectsTables(plan)) await lake.engine.run(sql).catch(() => undefined);
  }
}

async function listRejects(ctx: Ctx, plan: ReadPlan, meta: BatchMeta): Promise<RejectSummary[]> {
  const select = rejectsSelect(plan, meta);
  if (!select) return [];
  const rows = await ctx.lake.engine.all(`SELECT _source_file, line, column_name, error_type, reason FROM (${select}) ORDER BY _source_file, line`);
  return rows.map((r) => ({
    path: String(r._source_file),
    line: Number(r.line),
    column: (r.column_name as string | null) ?? null,
    errorType: String(r.error_type),
    reason: String(r.reason),
  }));
}

async function countRowsByFile(ctx: Ctx, written: WrittenFiles, files: readonly DiscoveredFile[]): Promise<Map<string, number>> {
  if (written.files.length === 0) return new Map();
  if (files.length === 1) return new Map([[files[0]!.hash, written.rowCount]]);
  const list = written.files.map((f) => quoteLiteral(ctx.lake.storage.readPath(f.path))).join(', ');
  const rows = await ctx.lake.engine.all(`SELECT _file_hash AS h, count(*) AS n FROM read_parquet([${list}]) GROUP BY 1`);
  return new Map(rows.map((r) => [String(r.h), Number(r.n)]));
}

function readErrorReason(err: unknown): string {
  const message = firstLine(errorMessage(err)).replace(/^writing [a-z0-9_.]+: /i, '');
  if (/Invalid unicode|byte sequence/i.test(message)) return `${message}; if the file is Latin-1, declare csv: { encoding: 'latin-1' }`;
  return message;
}

/** A file that cannot be ingested: stop (policy fail) or keep a copy in quarantine with the reason. */
async function refuse(ctx: Ctx, file: DiscoveredFile, refusal: Refusal): Promise<void> {
  if (ctx.policy === 'fail') {
    throw new TributaryError('INGEST_FAILED', `${file.displayPath}: ${refusal.reason}`, {
      hint: `source ${ctx.name} has onError: 'fail'; use 'quarantine' or 'reject' to set bad files aside and go on`,
    });
  }
  const storedPath = `_quarantine/${file.hash.slice(0, 16)}/${path.basename(file.absPath)}`;
  if (!(await ctx.lake.storage.exists(storedPath))) await ctx.lake.storage.putFile(file.absPath, storedPath);
  const entry = await ctx.lake.catalog.quarantine({
    source: ctx.name,
    path: file.displayPath,
    fileHash: file.hash,
    storedPath,
    table: ctx.table,
    reasonCode: refusal.code,
    reason: refusal.reason,
    ...(refusal.details ? { details: refusal.details } : {}),
    ...(ctx.options.runId ? { runId: ctx.options.runId } : {}),
  });
  ctx.report.quarantined.push({ id: entry.id, path: file.displayPath, reasonCode: refusal.code, reason: refusal.reason });
}
