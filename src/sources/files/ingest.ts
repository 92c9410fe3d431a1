import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TableChange } from '../../catalog/types.js';
import type { ErrorPolicy, FileFormat, FileSourceConfig } from '../../config/types.js';
import { fileLiteral, firstLine } from '../../engine/engine.js';
import { TributaryError, errorMessage } from '../../errors.js';
import type { Lake, WrittenFiles } from '../../lake/lake.js';
import { parseTableName } from '../../lake/table-name.js';
import { quoteIdent, quoteLiteral } from '../../engine/sql.js';
import { newId } from '../../util/ids.js';
import { emptyReport, type IngestOptions, type IngestProgress, type SourceReport } from '../connector.js';
import {
  expectedColumns,
  LINEAGE_COLUMNS,
  planColumns,
  plannedSelects,
  policy,
  valueViolations,
  type ResolvedSchemaContract,
  resolveSchemaContract,
  widensWithoutLoss,
} from '../schema-contract.js';
import { discover, displayPath, fingerprint, formatFromPath, mapLimit, readHead, type DiscoveredFile } from './files.js';
import { DEFAULT_MAX_COLUMNS, DEFAULT_MAX_LINE_SIZE, fileLineProblem, headLineProblem, holdsLines, readLeadingLines } from './csv-lines.js';
import { checkHead, csvHeader, declaredColumns, duplicateColumns, reservedColumns, validateColumns, type Refusal } from './precheck.js';
import { dataSelect, dropRejectsTables, FILE_COLUMN, rejectsSelect, sourceRelation, type BatchMeta, type ReadPlan } from './read-sql.js';

/** A batch is read by one DuckDB scan and committed as one snapshot; bounded so progress and commits are regular. */
const BATCH_MAX_BYTES = 256 * 1024 * 1024;
const BATCH_MAX_FILES = 1000;

/** The name under which ad hoc ingestion into a table records its files. */
export function adhocSourceName(table: string): string {
  return `adhoc:${table}`;
}

/** What a source's files hold now: content not ingested yet (candidates), and what is skipped and why. */
export interface SourceScan {
  discovered: number;
  candidates: DiscoveredFile[];
  /** First bytes of each candidate, by content hash (read in the same pass as the hash). */
  heads: Map<string, Buffer>;
  unchanged: number;
  stillQuarantined: { path: string; id: number }[];
  skipped: { path: string; reason: string }[];
  warnings: string[];
}

/**
 * Discovers a source's files and fingerprints them: content ingested before (by hash), or quarantined and not yet
 * retried, is not a candidate. `ingestSource` starts with it; a worker uses it to finish a source task whose files
 * hold nothing new without starting a task process.
 */
export async function scanSource(
  lake: Lake,
  name: string,
  source: FileSourceConfig,
  options: { partition?: string; requireMatch?: boolean; onHashed?: (done: number, total: number) => void } = {},
): Promise<SourceScan> {
  const scan: SourceScan = { discovered: 0, candidates: [], heads: new Map(), unchanged: 0, stillQuarantined: [], skipped: [], warnings: [] };
  const paths = await discover(source.glob, lake.config.projectDir, options.partition);
  scan.discovered = paths.length;
  if (paths.length === 0 && options.requireMatch) {
    throw new TributaryError('INVALID_INPUT', `${name.startsWith('adhoc:') ? '' : `sources.${name}: `}no file matches ${[source.glob].flat().join(', ')}`, {
      hint: name.startsWith('adhoc:')
        ? 'check the path; globs are relative to the current folder'
        : `globs are relative to the project folder ${lake.config.projectDir}`,
    });
  }
  if (paths.length === 0) scan.warnings.push(`no file matches ${[source.glob].flat().join(', ')} (relative to ${lake.config.projectDir})`);
  const known = await lake.catalog.ingestion.hashes(name);
  const quarantined = await lake.catalog.quarantine.openHashes(name);
  let hashed = 0;
  const prints = await mapLimit(paths, 4, async (absPath) => {
    const print = await fingerprint(absPath).catch((err: unknown) => {
      if (isGone(err)) return undefined;
      throw new TributaryError('IO_ERROR', `sources.${name}: cannot read ${displayPath(absPath, lake.config.projectDir)}: ${errorMessage(err)}`, {
        cause: err,
      });
    });
    options.onHashed?.(++hashed, paths.length);
    return { absPath, print };
  });
  for (const { absPath, print } of prints) {
    if (!print) {
      scan.skipped.push({ path: displayPath(absPath, lake.config.projectDir), reason: 'the file was removed after it was found' });
      continue;
    }
    const { sizeBytes, hash, head } = print;
    const file = { absPath, displayPath: displayPath(absPath, lake.config.projectDir), sizeBytes, hash };
    if (known.has(hash)) scan.unchanged++;
    else if (quarantined.has(hash)) scan.stillQuarantined.push({ path: file.displayPath, id: quarantined.get(hash)! });
    else if (scan.heads.has(hash))
      scan.unchanged++; // the same content twice in one run: ingest it once
    else {
      scan.candidates.push(file);
      scan.heads.set(hash, head);
    }
  }
  return scan;
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
  options: IngestOptions & { explicitFiles?: DiscoveredFile[]; retryQuarantineId?: number; requireMatch?: boolean } = {},
): Promise<SourceReport> {
  const table = parseTableName(source.into, `sources.${name}.into`).name;
  await checkDeclaredTypes(lake, name, source);
  const policy: ErrorPolicy = source.onError ?? 'reject';
  const report: SourceReport = emptyReport(name, table, 'file');
  const progress = (phase: IngestProgress['phase'], done: number, total: number) => options.onProgress?.({ source: name, phase, done, total });

  // 1. Discover and fingerprint; skip known content.
  let heads = new Map<string, Buffer>();
  let candidates: DiscoveredFile[];
  if (options.explicitFiles) {
    candidates = options.explicitFiles;
    report.discovered = candidates.length;
  } else {
    const scan = await scanSource(lake, name, source, {
      partition: options.partition,
      requireMatch: options.requireMatch,
      onHashed: (done, total) => progress('hashing', done, total),
    });
    ({ candidates, heads } = scan);
    Object.assign(report, {
      discovered: scan.discovered,
      unchanged: scan.unchanged,
      stillQuarantined: scan.stillQuarantined,
      skipped: scan.skipped,
      warnings: scan.warnings,
    });
  }

  // A changed file (a path ingested before with other content) replaces its previous version unless onChange: 'keep'.
  const previous = new Map<string, string[]>();
  if ((source.onChange ?? 'replace') === 'replace' && candidates.length) {
    const paths = new Set(candidates.map((f) => f.displayPath));
    for (const f of await lake.catalog.ingestion.files(name)) {
      if (paths.has(f.path)) previous.set(f.path, [...(previous.get(f.path) ?? []), f.fileHash]);
    }
  }
  const contract = resolveSchemaContract(lake, table, { name, schemaContract: source.schemaContract });
  const ctx: Ctx = {
    lake,
    name,
    source,
    table,
    policy,
    report,
    options,
    columns: new Map(),
    previous,
    contract,
    tableTypes: await expectedColumns(lake, contract),
    pinned: new Set(),
    done: 0,
    total: candidates.reduce((n, f) => n + f.sizeBytes, 0),
  };

  // 2. Cheap checks per file, then group files of one shape so that one DuckDB scan reads them all.
  const groups = new Map<string, { format: FileFormat; files: DiscoveredFile[]; delimiter?: string }>();
  for (const file of candidates) {
    const format = source.format ?? formatFromPath(file.absPath, `sources.${name}`);
    const head = heads.get(file.hash) ?? (await readHead(file.absPath).catch((err: unknown) => (isGone(err) ? undefined : Promise.reject(err))));
    if (!head) {
      vanished(ctx, file);
      continue;
    }
    let refusal = checkHead(head, file.sizeBytes, format, source.csv);
    let columns: string[] = [];
    let delimiter: string | undefined;
    if (!refusal && format === 'csv') {
      // Mixed line endings or an overlong line in the first bytes: named now, with the line, not by DuckDB's sniffer.
      refusal = headLineProblem(head, source.csv, head.length >= file.sizeBytes);
    }
    if (!refusal) {
      if (format === 'csv') {
        // A header longer than the head (100,000 columns) is read whole, or the file refused naming its length.
        const needed = (source.csv?.skip ?? 0) + 1;
        const maxLine = source.csv?.maxLineSize ?? DEFAULT_MAX_LINE_SIZE;
        const headerBytes = holdsLines(head, needed, file.sizeBytes) ? head : await readLeadingLines(file.absPath, needed, maxLine * needed);
        const header = csvHeader(headerBytes ?? head, source.csv);
        delimiter = header.delimiter;
        columns = source.csv?.header === false ? header.fields.map((_, i) => `column${i}`) : header.fields;
        const maxColumns = source.csv?.maxColumns ?? DEFAULT_MAX_COLUMNS;
        refusal = headerBytes
          ? columns.length > maxColumns
            ? {
                code: 'too_many_columns',
                reason: `the header has ${columns.length} columns, more than csv.maxColumns (${maxColumns}); raise it if so wide a table is intended`,
                details: { columns: columns.length },
              }
            : (duplicateColumns(columns) ?? reservedColumns(columns) ?? validateColumns(columns, source.schema, header.delimiter))
          : {
              code: 'unreadable',
              reason: `the header (line ${needed}) is longer than the maximum line size of ${maxLine} bytes; if that is intended, raise csv: { maxLineSize }`,
            };
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
    refusal ??= contractColumnsRefusal(ctx, columns);
    if (refusal) {
      await refuse(ctx, file, refusal);
      continue;
    }
    ctx.columns.set(file.hash, columns);
    // CSV files are read by position after one header, so only files with the same header share a scan;
    // JSON and Parquet are read by name (union_by_name).
    const key = format === 'csv' ? `csv\u0000${delimiter}\u0000${columns.join('\u0001')}` : format;
    const group = groups.get(key) ?? { format, files: [], ...(delimiter !== undefined ? { delimiter } : {}) };
    group.files.push(file);
    groups.set(key, group);
  }

  // 3. Read, route bad input, commit, batch by batch.
  for (const group of groups.values()) {
    for (const batch of batches(group.files)) await ingestBatch(ctx, group, batch, {});
  }
  return report;
}

/** What files of one scan share: their format and, for CSV, the delimiter of their header. */
interface Shape {
  format: FileFormat;
  delimiter?: string;
}

interface Ctx {
  lake: Lake;
  name: string;
  source: FileSourceConfig;
  table: string;
  policy: ErrorPolicy;
  report: SourceReport;
  options: IngestOptions & { retryQuarantineId?: number };
  /** Columns of each candidate file (by hash), from its header or DESCRIBE. */
  columns: Map<string, string[]>;
  /** Content hashes of the earlier versions of candidate files, by path (what `onChange: 'replace'` takes out). */
  previous: Map<string, string[]>;
  /** The table's schema contract (sources/schema-contract.ts). */
  contract: ResolvedSchemaContract;
  /** The types of the table's columns (its contract's, or its own when it exists): files are read with them. */
  tableTypes: Record<string, string>;
  /** With `types: 'evolve'`: columns a batch tried to change in a way that loses values, read with the table's type. */
  pinned: Set<string>;
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

/** Declared types for the columns these files have (DuckDB refuses types for absent columns). */
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

/** Reads one batch to Parquet, routes its bad rows by policy, and commits it (or sets files aside). */
async function ingestBatch(ctx: Ctx, shape: Shape, files: DiscoveredFile[], widened: Record<string, string>): Promise<void> {
  const { lake } = ctx;
  const { format } = shape;
  const present = files.flatMap((f) => ctx.columns.get(f.hash) ?? []);
  // The table's own types first (a file cannot silently change them), then what the config declares.
  const evolve = ctx.contract.types === 'evolve' && !ctx.contract.declared;
  const pinned = Object.fromEntries(Object.entries(ctx.tableTypes).filter(([c]) => present.includes(c) && !(c in widened) && (!evolve || ctx.pinned.has(c))));
  const declared = { ...pinned, ...declaredTypes(ctx.source, present) };
  const meta: BatchMeta = { source: ctx.name, batchId: newId('b'), ingestedAt: new Date() };
  const plan: ReadPlan = {
    format,
    files,
    csv: ctx.source.csv,
    types: { ...declared, ...widened },
    rejectsId: meta.batchId.replace(/[^A-Za-z0-9]/g, '_'),
    ...(shape.delimiter !== undefined ? { delimiter: shape.delimiter } : {}),
  };
  const dropRejects = async () => {
    for (const sql of dropRejectsTables(plan)) await lake.engine.run(sql).catch(() => undefined);
  };
  ctx.options.onProgress?.({ source: ctx.name, phase: 'reading', done: ctx.done, total: ctx.total });

  // New columns under 'discard_value' (dropped) or 'discard_row' (rows holding a value in one set aside).
  let select = dataSelect(plan, meta);
  let contractRejects: string | undefined;
  const unknown = Object.keys(ctx.tableTypes).length ? [...new Set(present)].filter((c) => !(c in ctx.tableTypes) && !LINEAGE_COLUMNS.has(c)) : [];
  const lineOffset = format === 'csv' && ctx.source.csv?.header !== false ? 1 + (ctx.source.csv?.skip ?? 0) : 0;
  if ((unknown.length && (ctx.contract.columns === 'discard_value' || ctx.contract.columns === 'discard_row')) || ctx.contract.declared) {
    // Types are the reader's business here (pinned above): the columns are planned, and a contract's value rules.
    const columnPlan = planColumns(ctx.contract, ctx.tableTypes, await lake.engine.describe(select), [], true);
    const broken = await valueViolations(lake, columnPlan, select, true);
    if (broken.length) {
      await dropRejects();
      const bad = new Map(broken.map((b) => [b.file, b]));
      for (const file of files.filter((f) => bad.has(f.displayPath))) {
        const b = bad.get(file.displayPath)!;
        await refuse(ctx, file, { code: 'schema_contract', reason: `${b.reason}; first at line ${b.row + lineOffset}` });
        ctx.done += file.sizeBytes;
      }
      const good = files.filter((f) => !bad.has(f.displayPath));
      if (good.length) await ingestBatch(ctx, shape, good, widened);
      return;
    }
    const planned = plannedSelects(columnPlan, select, { lineOffset });
    select = planned.select;
    contractRejects = planned.rejects;
    for (const c of columnPlan.discarded) note(ctx, `column ${c} of the files dropped (${policy(ctx.contract, 'columns')})`);
  }

  let written: WrittenFiles;
  try {
    const bytes = files.reduce((n, f) => n + f.sizeBytes, 0);
    const onProgress = (percent: number) =>
      ctx.options.onProgress?.({ source: ctx.name, phase: 'reading', done: ctx.done + Math.round((bytes * percent) / 100), total: ctx.total });
    // Bronze rows carry their file; keeping a batch's row order would cost DuckDB memory in proportion to the input.
    written = await lake.writeFiles(ctx.table, select, { onProgress, preserveOrder: false });
  } catch (err) {
    await dropRejects();
    // The lake's side failing (disk full, a file removed under the write) is never the input's fault.
    const lakeError = lake.lakeIoError(err, `ingesting ${ctx.name} into ${ctx.table}`);
    if (lakeError) throw lakeError;
    const present = files.filter((f) => existsSync(f.absPath));
    if (present.length < files.length) {
      for (const f of files) if (!present.includes(f)) vanished(ctx, f);
      if (present.length) await ingestBatch(ctx, shape, present, widened);
      return;
    }
    if (files.length > 1) {
      // One unreadable file fails the whole scan: find it by halves (about 2·log2(n) scans, not n).
      const half = Math.ceil(files.length / 2);
      await ingestBatch(ctx, shape, files.slice(0, half), widened);
      await ingestBatch(ctx, shape, files.slice(half), widened);
      return;
    }
    // DuckDB numbers lines from its buffer and its sniffer reports no cause: a scan of the file names line and cause.
    const diagnosed = shape.format === 'csv' ? await fileLineProblem(files[0]!.absPath, ctx.source.csv).catch(() => undefined) : undefined;
    await refuse(ctx, files[0]!, diagnosed ?? { code: 'unreadable', reason: readErrorReason(err) });
    ctx.done += files[0]!.sizeBytes;
    return;
  }

  // Until the commit, everything written here is ours to delete.
  const pending = [...written.files.map((f) => f.path)];
  const discard = async () => {
    await lake.storage.delete(pending).catch(() => undefined);
    await lake.discardWrites(pending.map((p) => ({ path: p })));
    pending.length = 0;
  };
  let next: (() => Promise<void>) | undefined;
  try {
    // 'evolve': a type the table's widens to is taken; any other change is read again with the table's type.
    if (evolve) {
      const lossy = written.schema.filter((c) => {
        const was = ctx.tableTypes[c.name];
        return was !== undefined && !(c.name in declared) && !widensWithoutLoss(was, c.type);
      });
      if (lossy.length) {
        for (const c of lossy) ctx.pinned.add(c.name);
        await discard();
        await dropRejects();
        return ingestBatch(ctx, shape, files, widened);
      }
    }
    const rejects = await listRejects(ctx, plan, meta);
    // A value that does not fit a type the table holds (not one the source declares) is a schema change.
    const sourceTypes = declaredTypes(ctx.source, present);
    const conflicts = rejects.filter((r) => r.errorType === 'CAST' && r.column && r.column in pinned && !(r.column in sourceTypes));
    const routed = ctx.contract.types === 'discard_row' ? rejects.filter((r) => !conflicts.includes(r)) : rejects;
    const setAside = contractRejects ? await contractRejectCounts(ctx, contractRejects) : new Map<string, number>();
    // An inferred type that later rows do not fit is the sampler's mistake, not the data's: widen to text and re-read.
    const widen = [
      ...new Set(rejects.filter((r) => r.errorType === 'CAST' && r.column && !(r.column in declared) && !(r.column in widened)).map((r) => r.column!)),
    ];
    if (conflicts.length && ctx.contract.types !== 'discard_row') {
      await discard();
      const bad = new Set(conflicts.map((r) => r.path));
      for (const file of files.filter((f) => bad.has(f.displayPath))) {
        const mine = conflicts.filter((r) => r.path === file.displayPath);
        const first = mine[0]!;
        const column = first.column!;
        const now = await readType(ctx, shape, file, column);
        await refuse(ctx, file, {
          code: 'schema_contract',
          reason: `column ${column} reads as ${now ?? 'another type'}, but ${ctx.table} holds it as ${pinned[column]} (${policy(ctx.contract, 'types')}${ctx.contract.types === 'evolve' && now ? `: ${pinned[column]} does not widen to ${now} without loss` : ''}); first at line ${first.line}: ${first.reason}`,
          details: { column, tableType: pinned[column], fileType: now ?? null, rejects: mine.slice(0, 20) },
        });
      }
      const good = files.filter((f) => !bad.has(f.displayPath));
      if (good.length) next = () => ingestBatch(ctx, shape, good, widened);
    } else if (widen.length && format === 'csv') {
      await discard();
      next = () => ingestBatch(ctx, shape, files, { ...widened, ...Object.fromEntries(widen.map((c) => [c, 'VARCHAR'])) });
    } else if (routed.length && ctx.policy === 'fail') {
      const r = routed[0]!;
      throw new TributaryError('INGEST_FAILED', `${r.path}: line ${r.line}${r.column ? `, column ${r.column}` : ''}: ${r.reason}`, {
        hint: `source ${ctx.name} has onError: 'fail'; use 'reject' to keep going and collect bad rows`,
      });
    } else if (routed.length && ctx.policy === 'quarantine') {
      await discard();
      const bad = new Set(routed.map((r) => r.path));
      for (const file of files.filter((f) => bad.has(f.displayPath))) {
        const mine = routed.filter((r) => r.path === file.displayPath);
        await refuse(ctx, file, {
          code: 'rows_rejected',
          reason: `${new Set(mine.map((r) => r.line)).size} row(s) could not be read, first at line ${mine[0]!.line}: ${mine[0]!.reason}`,
          details: { rejects: mine.slice(0, 20) },
        });
      }
      const good = files.filter((f) => !bad.has(f.displayPath));
      if (good.length) next = () => ingestBatch(ctx, shape, good, widened);
    } else {
      const changes: TableChange[] = [lake.change(written, 'append', { batchId: meta.batchId, files: files.length })];
      const rejectsOf = [...(rejects.length ? [rejectsSelect(plan, meta)!] : []), ...(setAside.size ? [contractRejects!] : [])];
      if (rejectsOf.length) {
        const rejected = await lake.writeFiles(`${ctx.table}_rejects`, rejectsOf.map((s) => `SELECT * FROM (${s})`).join(' UNION ALL BY NAME '));
        pending.push(...rejected.files.map((f) => f.path));
        changes.push(lake.change(rejected, 'append', { batchId: meta.batchId }));
      }
      // Changed files: their previous versions' rows leave the table (and its rejects) in this same commit.
      const superseded = files.flatMap((f) => (ctx.previous.get(f.displayPath) ?? []).filter((h) => h !== f.hash));
      const replaced = superseded.length ? await supersede(ctx, changes, superseded, pending) : new Map<string, number>();
      const rowsByFile = await countRowsByFile(ctx, written, files);
      pending.length = 0; // from here on, Lake.commit owns the files
      const rest = await commitBatch(ctx, files, meta, changes, rowsByFile, rejects, superseded, replaced, setAside);
      recordSchemaChanges(ctx, written);
      if (rest.length) next = () => ingestBatch(ctx, shape, rest, widened);
    }
  } catch (err) {
    await discard();
    throw err;
  } finally {
    await dropRejects();
  }
  await next?.();
}

/**
 * Commits a batch with its ingestion records. Returns the files still to ingest when another process committed
 * some of the same content first (those are then ingested, once, by the other process).
 */
async function commitBatch(
  ctx: Ctx,
  files: DiscoveredFile[],
  meta: BatchMeta,
  changes: TableChange[],
  rowsByFile: Map<string, number>,
  rejects: RejectSummary[],
  superseded: readonly string[] = [],
  replaced: ReadonlyMap<string, number> = new Map(),
  setAside: ReadonlyMap<string, number> = new Map(),
): Promise<DiscoveredFile[]> {
  const rejectedRows = (f: DiscoveredFile) =>
    new Set(rejects.filter((r) => r.path === f.displayPath).map((r) => r.line)).size + (setAside.get(f.displayPath) ?? 0);
  ctx.options.onProgress?.({ source: ctx.name, phase: 'committing', done: ctx.done, total: ctx.total });
  let snapshotId: number;
  try {
    const result = await ctx.lake.commit({
      ...(ctx.options.runId ? { runId: ctx.options.runId } : {}),
      changes,
      parts: [
        ctx.lake.catalog.ingestion.record(
          files.map((f) => ({
            source: ctx.name,
            fileHash: f.hash,
            path: f.displayPath,
            sizeBytes: f.sizeBytes,
            table: ctx.table,
            batchId: meta.batchId,
            ingestedAt: meta.ingestedAt,
            rowCount: rowsByFile.get(f.hash) ?? 0,
            rejectedRows: rejectedRows(f),
          })),
          superseded.map((fileHash) => ({ source: ctx.name, fileHash })),
        ),
        ...(ctx.options.retryQuarantineId !== undefined ? [ctx.lake.catalog.quarantine.resolveOnCommit(ctx.options.retryQuarantineId)] : []),
      ],
    });
    snapshotId = result.snapshots[ctx.table]!;
  } catch (err) {
    // Lost a race on the same content: the commit was refused whole and its files deleted.
    if (!(err instanceof TributaryError) || err.code !== 'ALREADY_INGESTED') throw err;
    const known = await ctx.lake.catalog.ingestion.hashes(ctx.name);
    const rest = files.filter((f) => !known.has(f.hash));
    if (rest.length === files.length) throw err;
    ctx.report.unchanged += files.length - rest.length;
    return rest;
  }
  for (const f of files) {
    const rows = rowsByFile.get(f.hash) ?? 0;
    const replacedRows = (ctx.previous.get(f.displayPath) ?? []).reduce((n, h) => n + (replaced.get(h) ?? 0), 0);
    ctx.report.ingested.push({ path: f.displayPath, hash: f.hash, rows, rejectedRows: rejectedRows(f), snapshotId, replacedRows });
    ctx.report.rows += rows;
    ctx.report.rejectedRows += rejectedRows(f);
    ctx.done += f.sizeBytes;
  }
  return [];
}

/**
 * Takes the rows of earlier file versions (by content hash) out of the table and its rejects table: each data file
 * holding some is rewritten without them, and the change removes it. Returns rows removed from the table by hash.
 */
async function supersede(ctx: Ctx, changes: TableChange[], hashes: readonly string[], pending: string[]): Promise<Map<string, number>> {
  const { lake } = ctx;
  const removed = new Map<string, number>();
  const list = hashes.map(quoteLiteral).join(', ');
  for (const table of [ctx.table, `${ctx.table}_rejects`]) {
    if (!(await lake.catalog.getTable(table))) continue;
    const resolved = await lake.catalog.resolveSnapshot(table);
    if (!resolved || resolved.files.length === 0) continue;
    await lake.storage.prepareRead(resolved.files.map((f) => f.path));
    const byPath = new Map(resolved.files.map((f) => [lake.storage.readPath(f.path), f]));
    const hits = await lake.engine.all(
      `SELECT filename AS file, _file_hash AS h, count(*) AS n FROM read_parquet([${[...byPath.keys()].map(fileLiteral).join(', ')}], filename = true, union_by_name = true)
        WHERE _file_hash IN (${list}) GROUP BY ALL`,
    );
    if (hits.length === 0) continue;
    const affected = [...new Set(hits.map((r) => String(r.file)))].map((p) => byPath.get(p)!).filter(Boolean);
    if (table === ctx.table) for (const r of hits) removed.set(String(r.h), (removed.get(String(r.h)) ?? 0) + Number(r.n));
    const rewritten = await lake.writeFiles(
      table,
      `SELECT * FROM (${await lake.selectOfFiles(affected, resolved.snapshot.schema)}) WHERE _file_hash NOT IN (${list})`,
    );
    pending.push(...rewritten.files.map((f) => f.path));
    const existing = changes.find((c) => c.table === table);
    const removeFiles = affected.map((f) => f.path);
    if (existing) {
      existing.addFiles = [...existing.addFiles, ...rewritten.files];
      existing.removeFiles = removeFiles;
      existing.summary = { ...existing.summary, replacedVersions: hashes.length };
    } else {
      changes.push({ ...lake.change(rewritten, 'append', { replacedVersions: hashes.length }), removeFiles });
    }
  }
  return removed;
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
  await ctx.lake.storage.prepareRead(written.files.map((f) => f.path));
  const list = written.files.map((f) => fileLiteral(ctx.lake.storage.readPath(f.path))).join(', ');
  const rows = await ctx.lake.engine.all(`SELECT _file_hash AS h, count(*) AS n FROM read_parquet([${list}]) GROUP BY 1`);
  return new Map(rows.map((r) => [String(r.h), Number(r.n)]));
}

function readErrorReason(err: unknown): string {
  // DuckDB's message: a first line ("CSV Error on Line: 1"), then the cause; both, without the echoed input line.
  const full = errorMessage(err instanceof TributaryError && err.cause !== undefined ? err.cause : err);
  const lines = full.split('\n').map((l) => l.trim());
  const cause = lines.slice(1).find((l) => l && !/^(Original Line|LINE \d+|Possible Solution|file =)/i.test(l) && !l.startsWith('*'));
  const first = firstLine(full).replace(/^writing [a-z0-9_.]+: /i, '');
  const message = cause && /CSV Error on Line/i.test(first) ? `${first.replace(/CSV Error on Line: \d+/i, 'CSV error')}: ${cause}` : first;
  if (/Invalid unicode|byte sequence/i.test(message)) return `${message}; if the file is Latin-1, declare csv: { encoding: 'latin-1' }`;
  return message;
}

/** A typo in a declared type would otherwise make every file unreadable: check them once, naming the setting. */
async function checkDeclaredTypes(lake: Lake, name: string, source: FileSourceConfig): Promise<void> {
  for (const [column, spec] of declaredColumns(source.schema)) {
    if (!spec.type) continue;
    try {
      await lake.engine.run(`SELECT CAST(NULL AS ${spec.type})`);
    } catch (err) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `sources.${name}.schema.columns.${column}: "${spec.type}" is not a DuckDB type (${firstLine(errorMessage(err))})`,
      );
    }
  }
}

/** Options an ad hoc source was run with, kept with its quarantine entries so that a retry reads files the same way. */
export function adhocOptions(source: FileSourceConfig): Partial<FileSourceConfig> {
  const { format, csv, onError, schema } = source;
  return { ...(format ? { format } : {}), ...(csv ? { csv } : {}), ...(onError ? { onError } : {}), ...(schema ? { schema } : {}) };
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A source file removed between discovery and reading: skipped with a warning, the run goes on. */
function vanished(ctx: Ctx, file: DiscoveredFile): void {
  ctx.report.skipped.push({ path: file.displayPath, reason: 'the file was removed after it was found' });
  ctx.done += file.sizeBytes;
}

/** A file that cannot be ingested: stop (policy fail) or keep a copy in quarantine with the reason. */
/** With `columns: 'freeze'`, a file with a column its table does not have is refused before it is read (and one lacking a required column of the table's contract). */
function contractColumnsRefusal(ctx: Ctx, columns: readonly string[]): Refusal | undefined {
  const { contract } = ctx;
  const missing = (contract.declared ?? []).filter((c) => !c.nullable && !columns.includes(c.name)).map((c) => c.name);
  if (missing.length)
    return {
      code: 'schema_contract',
      reason: `column(s) ${missing.join(', ')} of ${ctx.table}'s contract (${ctx.lake.tableConfig(ctx.table).contract}) are missing and not nullable`,
    };
  if (contract.columns !== 'freeze' || !Object.keys(ctx.tableTypes).length) return undefined;
  const unknown = columns.filter((c) => !(c in ctx.tableTypes) && !LINEAGE_COLUMNS.has(c));
  if (!unknown.length) return undefined;
  return {
    code: 'schema_contract',
    reason: `new column(s) ${unknown.join(', ')} not in ${ctx.table} (${policy(contract, 'columns')}); allow them with schemaContract: { columns: 'evolve' }, or drop them with 'discard_value'`,
    details: { columns: unknown },
  };
}

/** The type DuckDB reads a column of a file as, left to itself (for messages); undefined if it cannot tell. */
async function readType(ctx: Ctx, shape: Shape, file: DiscoveredFile, column: string): Promise<string | undefined> {
  const rejectsId = `t${newId('').replace(/[^A-Za-z0-9]/g, '_')}`;
  const plan: ReadPlan = {
    format: shape.format,
    files: [file],
    csv: ctx.source.csv,
    types: {},
    rejectsId,
    ...(shape.delimiter !== undefined ? { delimiter: shape.delimiter } : {}),
  };
  try {
    const columns = await ctx.lake.engine.describe(`SELECT ${quoteIdent(column)} FROM ${sourceRelation(plan)}`);
    return columns[0]?.type;
  } catch {
    return undefined;
  } finally {
    for (const sql of dropRejectsTables(plan)) await ctx.lake.engine.run(sql).catch(() => undefined);
  }
}

/** Rows set aside by `discard_row`, per file. */
async function contractRejectCounts(ctx: Ctx, rejects: string): Promise<Map<string, number>> {
  const result = await ctx.lake.engine.query(`SELECT "_source_file" AS f, count(*) AS n FROM (${rejects}) GROUP BY 1`);
  return new Map(result.rows.map((r) => [String(r.f), Number(r.n)]));
}

/** A schema change a committed batch made (new columns, widened types), for the report; later batches know it. */
function recordSchemaChanges(ctx: Ctx, written: WrittenFiles): void {
  const known = Object.keys(ctx.tableTypes).length > 0;
  for (const c of written.schema) {
    if (LINEAGE_COLUMNS.has(c.name)) continue;
    const was = ctx.tableTypes[c.name];
    if (was === undefined && known) note(ctx, `new column ${c.name} (${c.type})`);
    else if (was !== undefined && was !== c.type) note(ctx, `column ${c.name}: ${was} → ${c.type}`);
    ctx.tableTypes[c.name] = c.type;
  }
}

function note(ctx: Ctx, change: string): void {
  if (!ctx.report.schemaChanges.includes(change)) ctx.report.schemaChanges.push(change);
}

async function refuse(ctx: Ctx, file: DiscoveredFile, refusal: Refusal): Promise<void> {
  if (ctx.policy === 'fail') {
    throw new TributaryError('INGEST_FAILED', `${file.displayPath}: ${refusal.reason}`, {
      hint: `source ${ctx.name} has onError: 'fail'; use 'quarantine' or 'reject' to set bad files aside and go on`,
    });
  }
  const storedPath = `_quarantine/${file.hash.slice(0, 16)}/${path.basename(file.absPath)}`;
  if (!(await ctx.lake.storage.exists(storedPath))) {
    try {
      await ctx.lake.storage.putFile(file.absPath, storedPath);
    } catch (err) {
      await ctx.lake.storage.delete([storedPath]).catch(() => undefined);
      if (isGone(err) && !existsSync(file.absPath)) return vanished(ctx, file);
      // The input is left where it is, unrecorded: the next run reads it again.
      throw (
        ctx.lake.lakeIoError(err, `keeping a copy of ${file.displayPath} in quarantine`) ??
        new TributaryError('LAKE_IO', `keeping a copy of ${file.displayPath} in quarantine at ${ctx.lake.storage.readPath(storedPath)}: ${errorMessage(err)}`, {
          cause: err,
        })
      );
    }
  }
  const entry = await ctx.lake.catalog.quarantine.add({
    source: ctx.name,
    path: file.displayPath,
    fileHash: file.hash,
    storedPath,
    table: ctx.table,
    reasonCode: refusal.code,
    reason: refusal.reason,
    details: { ...refusal.details, ...(ctx.name.startsWith('adhoc:') ? { sourceOptions: adhocOptions(ctx.source) } : {}) },
    ...(ctx.options.runId ? { runId: ctx.options.runId } : {}),
  });
  ctx.report.quarantined.push({ id: entry.id, path: file.displayPath, reasonCode: refusal.code, reason: refusal.reason });
}
