import { z } from 'zod';
import type { FileSourceConfig } from '../../config/types.js';
import type { SourceConnector } from '../connector.js';
import { ingestSource, scanSource } from './ingest.js';

const tableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'expected a table name layer.table');
const columnSpec = z.union([z.string().min(1), z.strictObject({ type: z.string().min(1).optional(), required: z.boolean().optional() })]);
export const csvOptions = z.strictObject({
  delimiter: z.string().min(1).optional(),
  quote: z.string().optional(),
  escape: z.string().optional(),
  header: z.boolean().optional(),
  encoding: z.enum(['utf-8', 'latin-1', 'utf-16']).optional(),
  skip: z.number().int().nonnegative().optional(),
  nullValues: z.array(z.string()).optional(),
  dateFormat: z.string().optional(),
  timestampFormat: z.string().optional(),
  maxLineSize: z.number().int().positive().optional(),
  maxColumns: z.number().int().positive().optional(),
});

/** `kind: 'files'`: files matching globs, each content ingested once (by hash), bad files quarantined. */
export const fileSourceSchema = z.strictObject({
  kind: z.literal('files'),
  glob: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  into: tableName,
  format: z.enum(['csv', 'json', 'ndjson', 'parquet']).optional(),
  csv: csvOptions.optional(),
  schema: z.strictObject({ columns: z.record(z.string(), columnSpec), strict: z.boolean().optional() }).optional(),
  onError: z.enum(['fail', 'quarantine', 'reject']).optional(),
  onChange: z.enum(['replace', 'keep']).optional(),
});

/**
 * The file source on the connector interface: its state is the set of ingested content hashes (ingestion records,
 * committed with each batch), its plan the files whose content is not among them.
 */
export const filesConnector: SourceConnector<FileSourceConfig> = {
  kind: 'files',
  schema: fileSourceSchema as z.ZodType<FileSourceConfig>,
  async plan(ctx, config) {
    const scan = await scanSource(ctx.lake, ctx.name, config, { partition: ctx.partition });
    const parts = [
      `${scan.unchanged} unchanged`,
      ...(scan.candidates.length ? [`${scan.candidates.length} new or changed`] : []),
      ...(scan.stillQuarantined.length ? [`${scan.stillQuarantined.length} still quarantined`] : []),
      ...(scan.skipped.length ? [`${scan.skipped.length} removed while scanning`] : []),
    ];
    return {
      upToDate: scan.candidates.length === 0,
      summary: `${scan.candidates.length ? '' : 'no new content in '}the ${scan.discovered} file(s) it matches (${parts.join(', ')})`,
      warnings: scan.warnings,
    };
  },
  ingest(ctx, config) {
    return ingestSource(ctx.lake, ctx.name, config, {
      ...(ctx.runId ? { runId: ctx.runId } : {}),
      ...(ctx.partition ? { partition: ctx.partition } : {}),
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
      ...(ctx.strict ? { requireMatch: true } : {}),
    });
  },
};
