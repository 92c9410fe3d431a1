import { type FileSourceConfig, fileSourceSchema } from './config.js';
import type { SourceConnector } from '../connector.js';
import { ingestSource, scanSource } from './ingest.js';

/**
 * The file source on the connector interface: its state is the set of ingested content hashes (ingestion records,
 * committed with each batch), its plan the files whose content is not among them.
 */
export const filesConnector: SourceConnector<FileSourceConfig> = {
  kind: 'files',
  schema: fileSourceSchema,
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
