import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quoteLiteral } from '../../engine/sql.js';
import { errorMessage } from '../../errors.js';
import type { CommitPart, TableChange } from '../../catalog/types.js';
import { parseTableName } from '../../lake/table-name.js';
import { chunks } from '../../util/chunks.js';
import { newId } from '../../util/ids.js';
import { lineageColumns } from '../batches.js';
import { emptyReport, type SourceConnector, type SourceContext, type SourceReport } from '../connector.js';
import { discover, displayPath, fingerprint } from '../files/files.js';
import { type DocumentsSourceConfig, documentsSourceSchema } from './config.js';
import { detectType, extractInvoice, type InvoiceFields } from './fields.js';
import { Ocr, type PageText } from './ocr.js';
import { openPages, type Pages, sniff } from './render.js';

/**
 * `kind: 'documents'`: PDF, PNG, JPEG and TIFF documents recognised by Tesseract into one row per document — its
 * text per page with the confidence, its type (seed 000's keyword rules), and an invoice's fields — idempotent by
 * content hash as files are (ingestion records committed with the rows). A document recognised with too little
 * confidence, or an invoice whose totals do not add up, also lands in the review table with the reason: nothing is
 * dropped. A file that is no document (or a broken one) is quarantined. In inbox mode, documents move to
 * `<inbox>/processed/` once their commit is done.
 */

/** The extensions an inbox's documents have (any case: `Scan.Pdf` too). */
const DOCUMENT_FILE = /\.(pdf|png|jpe?g|tiff?)$/i;

const COLUMNS = `{
  file: 'VARCHAR', file_hash: 'VARCHAR', size_bytes: 'BIGINT', media_type: 'VARCHAR', pages: 'INTEGER', pages_read: 'INTEGER',
  page_texts: 'STRUCT(page INTEGER, text VARCHAR, confidence DOUBLE, words INTEGER, correction VARCHAR)[]',
  text: 'VARCHAR', confidence: 'DOUBLE', words: 'INTEGER', doc_type: 'VARCHAR',
  fields: 'STRUCT(invoice_number VARCHAR, invoice_date DATE, total_ht DECIMAL(18,2), total_tva DECIMAL(18,2), total_ttc DECIMAL(18,2), currency VARCHAR, vendor VARCHAR)',
  warnings: 'VARCHAR[]', review_reason: 'VARCHAR', ocr_seconds: 'DOUBLE'
}`;

interface DocumentRow {
  file: string;
  file_hash: string;
  size_bytes: number;
  media_type: string;
  pages: number;
  pages_read: number;
  page_texts: PageText[];
  text: string;
  confidence: number;
  words: number;
  doc_type: string;
  fields: InvoiceFields | null;
  warnings: string[];
  review_reason: string | null;
  ocr_seconds: number;
}

interface Candidate {
  absPath: string;
  displayPath: string;
  sizeBytes: number;
  hash: string;
}

function patterns(config: DocumentsSourceConfig): string[] {
  if (config.inbox) return [`${config.inbox.replace(/\/+$/, '')}/*`];
  return [config.glob!].flat();
}

function reviewTable(config: DocumentsSourceConfig): string {
  return config.review ?? `${config.into}_review`;
}

/**
 * Moves a committed inbox document to `processed/` (a name taken there gets the content hash). A move that fails is
 * a warning: the document is committed, and the next run moves it.
 */
function moveProcessed(config: DocumentsSourceConfig, projectDir: string, doc: Candidate, report: SourceReport): void {
  if (!config.inbox || !existsSync(doc.absPath)) return;
  try {
    move(config, projectDir, doc);
  } catch (err) {
    report.warnings.push(`${doc.displayPath} is committed but could not be moved to processed/: ${errorMessage(err)}; the next run moves it`);
  }
}

function move(config: DocumentsSourceConfig, projectDir: string, doc: Candidate): void {
  const folder = path.resolve(projectDir, config.inbox!, 'processed');
  mkdirSync(folder, { recursive: true });
  const ext = path.extname(doc.absPath);
  let target = path.join(folder, path.basename(doc.absPath));
  if (existsSync(target)) target = path.join(folder, `${path.basename(doc.absPath, ext)}.${doc.hash.slice(0, 12)}${ext}`);
  renameSync(doc.absPath, target);
}

async function scan(ctx: SourceContext, config: DocumentsSourceConfig, report: SourceReport) {
  const projectDir = ctx.lake.config.projectDir;
  const found = (await discover(patterns(config), projectDir)).filter((f) => !config.inbox || DOCUMENT_FILE.test(f));
  const known = await ctx.lake.catalog.ingestion.hashes(ctx.name);
  const quarantined = await ctx.lake.catalog.quarantine.openHashes(ctx.name);
  const todo: Candidate[] = [];
  const done: Candidate[] = [];
  const seen = new Set<string>();
  for (const absPath of found) {
    report.discovered++;
    let print: { sizeBytes: number; hash: string };
    try {
      print = await fingerprint(absPath);
    } catch {
      report.skipped.push({ path: displayPath(absPath, projectDir), reason: 'the file was removed after it was found' });
      continue;
    }
    const doc = { absPath, displayPath: displayPath(absPath, projectDir), sizeBytes: print.sizeBytes, hash: print.hash };
    if (known.has(doc.hash)) {
      report.unchanged++;
      done.push(doc);
    } else if (seen.has(doc.hash)) {
      // The same content as another file of this run: read once; this copy moves once that content is committed.
      report.skipped.push({ path: doc.displayPath, reason: 'the same content as another document of this run, read once' });
    } else if (quarantined.has(doc.hash)) report.stillQuarantined.push({ path: doc.displayPath, id: quarantined.get(doc.hash)! });
    else {
      seen.add(doc.hash);
      todo.push(doc);
    }
  }
  if (found.length === 0) report.warnings.push(`${patterns(config).join(', ')} matches no document`);
  return { todo, done };
}

/** Reads one document: its pages recognised, its type and fields, and why it needs review. */
async function recognise(
  ocr: Ocr,
  config: DocumentsSourceConfig,
  doc: Candidate,
  pages: Pages,
  type: NonNullable<ReturnType<typeof sniff>>,
): Promise<DocumentRow> {
  const started = Date.now();
  const warnings: string[] = [];
  const texts: PageText[] = [];
  try {
    const limit = Math.min(pages.count, config.maxPages ?? 50);
    if (pages.count > limit) warnings.push(`${pages.count} pages: the first ${limit} were read (maxPages)`);
    // As many pages at once as there are Tesseract workers; a page's image is made when it is its turn.
    const at = config.workers ?? 1;
    for (let first = 0; first < limit; first += at) {
      const batch = Array.from({ length: Math.min(at, limit - first) }, (_, k) => first + k);
      texts.push(...(await Promise.all(batch.map(async (i) => ocr.page(await pages.image(i), i + 1)))));
    }
  } finally {
    await pages.close();
  }
  for (const t of texts) if (t.correction) warnings.push(`page ${t.page} was read ${t.correction}`);
  const text = texts.map((t) => t.text).join('\n\n');
  const words = texts.reduce((n, t) => n + t.words, 0);
  const confidence = words ? Math.round((texts.reduce((n, t) => n + t.confidence * t.words, 0) / words) * 10) / 10 : 0;
  const docType = detectType(text);
  const invoice = docType === 'invoice' ? extractInvoice(text) : undefined;
  if (invoice) warnings.push(...invoice.warnings);
  const minConfidence = config.minConfidence ?? 60;
  const reviewReason =
    words === 0
      ? 'no text was recognised'
      : confidence < minConfidence
        ? `recognised with a confidence of ${confidence}, below minConfidence (${minConfidence})`
        : (invoice?.reviewReason ?? null);
  return {
    file: doc.displayPath,
    file_hash: doc.hash,
    size_bytes: doc.sizeBytes,
    media_type: type,
    pages: pages.count,
    pages_read: texts.length,
    page_texts: texts,
    text,
    confidence,
    words,
    doc_type: docType,
    fields: invoice?.fields ?? null,
    warnings,
    review_reason: reviewReason,
    ocr_seconds: (Date.now() - started) / 1000,
  };
}

async function quarantine(ctx: SourceContext, table: string, doc: Candidate, code: 'unreadable' | 'binary_content', reason: string, report: SourceReport) {
  const storedPath = `_quarantine/${doc.hash.slice(0, 16)}/${path.basename(doc.absPath)}`;
  if (!(await ctx.lake.storage.exists(storedPath))) await ctx.lake.storage.putFile(doc.absPath, storedPath);
  const entry = await ctx.lake.catalog.quarantine.add({
    source: ctx.name,
    path: doc.displayPath,
    fileHash: doc.hash,
    storedPath,
    table,
    reasonCode: code,
    reason,
    ...(ctx.runId ? { runId: ctx.runId } : {}),
  });
  report.quarantined.push({ id: entry.id, path: doc.displayPath, reasonCode: code, reason });
}

export const documentsConnector: SourceConnector<DocumentsSourceConfig> = {
  kind: 'documents',
  schema: documentsSourceSchema,
  writes: (config) => [config.into, reviewTable(config)],

  async plan(ctx, config) {
    const report = emptyReport(ctx.name, config.into, 'file');
    const { todo, done } = await scan(ctx, config, report);
    // An inbox still holding committed documents (a crash between a commit and the moves) has work: moving them.
    return {
      upToDate: todo.length === 0 && (!config.inbox || done.length === 0),
      summary: `${todo.length} new document(s) among the ${report.discovered} found (${report.unchanged} read before, ${report.stillQuarantined.length} still quarantined)`,
      warnings: report.warnings,
    };
  },

  async ingest(ctx, config) {
    const where = `sources.${ctx.name}`;
    const table = parseTableName(config.into, `${where}.into`).name;
    const review = parseTableName(reviewTable(config), `${where}.review`).name;
    const report = emptyReport(ctx.name, table, 'file');
    const { todo, done } = await scan(ctx, config, report);
    for (const doc of done) moveProcessed(config, ctx.lake.config.projectDir, doc, report);
    if (todo.length === 0) return report;
    const ocr = await Ocr.open(
      {
        languages: config.languages ?? ['fra', 'eng'],
        workers: config.workers ?? 1,
        cacheDir: path.join(ctx.lake.config.projectDir, '.tributary', 'ocr'),
        retryBelow: 75,
      },
      where,
    );
    const total = todo.reduce((n, d) => n + d.sizeBytes, 0);
    let progress = 0;
    const scratch = path.join(ctx.lake.config.lakePath, '_tmp');
    mkdirSync(scratch, { recursive: true });
    try {
      for (const batch of chunks(todo, config.batchSize ?? 10)) {
        const rows: DocumentRow[] = [];
        const read: Candidate[] = [];
        for (const doc of batch) {
          ctx.onProgress?.({ source: ctx.name, phase: 'reading', done: progress, total });
          progress += doc.sizeBytes;
          let bytes: Buffer;
          try {
            bytes = readFileSync(doc.absPath);
          } catch {
            report.skipped.push({ path: doc.displayPath, reason: 'the file was removed after it was found' });
            continue;
          }
          // The hash recorded is the hash of the bytes recognised: a file still being written is left for later.
          if (createHash('sha256').update(bytes).digest('hex') !== doc.hash) {
            report.skipped.push({ path: doc.displayPath, reason: 'the file changed while it was being read; the next run reads it' });
            continue;
          }
          const type = sniff(bytes.subarray(0, 8));
          if (!type) {
            await quarantine(
              ctx,
              table,
              doc,
              'binary_content',
              `${doc.displayPath} is not a PDF, PNG, JPEG or TIFF document (it starts with ${JSON.stringify(bytes.subarray(0, 8).toString('latin1'))})`,
              report,
            );
            continue;
          }
          // A document that cannot be opened is the document's fault (quarantined); a recognition that fails is not.
          let pages: Pages;
          try {
            pages = await openPages(bytes, type, config.dpi ?? 300);
          } catch (err) {
            await quarantine(ctx, table, doc, 'unreadable', `${doc.displayPath} cannot be read as ${type}: ${errorMessage(err).split('\n')[0]}`, report);
            continue;
          }
          rows.push(await recognise(ocr, config, doc, pages, type));
          read.push(doc);
        }
        if (rows.length === 0) continue;
        const file = path.join(scratch, `documents-${newId('')}.ndjson`);
        writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
        const written: { path: string }[] = [];
        try {
          const batchId = newId('b');
          const select = (where: string) =>
            `SELECT *, ${lineageColumns(ctx.name, batchId)} FROM read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = ${COLUMNS}, maximum_object_size = 268435456) ${where}`;
          const rowsWritten = await ctx.lake.writeFiles(table, select(''));
          written.push(...rowsWritten.files);
          const changes: TableChange[] = [ctx.lake.change(rowsWritten, 'append', { source: ctx.name, batch: batchId })];
          if (rows.some((r) => r.review_reason)) {
            const toReview = await ctx.lake.writeFiles(review, select('WHERE review_reason IS NOT NULL'));
            written.push(...toReview.files);
            changes.push(ctx.lake.change(toReview, 'append', { source: ctx.name, batch: batchId }));
          }
          const ingestedAt = new Date();
          const parts: CommitPart[] = [
            ctx.lake.catalog.ingestion.record(
              read.map((doc) => ({
                source: ctx.name,
                fileHash: doc.hash,
                path: doc.displayPath,
                sizeBytes: doc.sizeBytes,
                table,
                batchId,
                ingestedAt,
                rowCount: 1,
                rejectedRows: 0,
              })),
            ),
          ];
          ctx.onProgress?.({ source: ctx.name, phase: 'committing', done: progress, total });
          const result = await ctx.lake.commit({ ...(ctx.runId ? { runId: ctx.runId } : {}), changes, parts });
          written.length = 0;
          for (const [i, doc] of read.entries()) {
            const row = rows[i]!;
            report.ingested.push({ path: doc.displayPath, hash: doc.hash, rows: 1, rejectedRows: 0, snapshotId: result.snapshots[table]!, replacedRows: 0 });
            report.rows++;
            if (row.review_reason) report.warnings.push(`${doc.displayPath} needs review: ${row.review_reason}`);
            moveProcessed(config, ctx.lake.config.projectDir, doc, report);
          }
        } catch (err) {
          await ctx.lake.abandon(written);
          throw err;
        } finally {
          rmSync(file, { force: true });
        }
      }
    } finally {
      await ocr.close();
    }
    return report;
  },
};
