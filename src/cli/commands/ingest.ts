import { Command, Option } from 'commander';
import type { CsvOptions, FileSourceConfig } from '../../config/types.js';
import { TributaryError } from '../../errors.js';
import type { IngestProgress } from '../../sources/connector.js';
import { runIngest, runIngestFiles, type IngestRunReport } from '../../ingest/run.js';
import { emit, globals, withLake } from '../context.js';
import { Progress, formatBytes, renderTable } from '../output.js';

export function ingestCommand(): Command {
  return new Command('ingest')
    .description('ingest declared sources (all, or those named), or ad hoc files with --into')
    .argument('[sources...]', 'declared source names; with --into, file paths or globs instead')
    .option('--into <table>', 'ad hoc: ingest the given paths/globs into this table (layer.table)')
    .addOption(new Option('--format <format>', 'ad hoc: input format (default: from the extension)').choices(['csv', 'json', 'ndjson', 'parquet']))
    .option('--delimiter <char>', 'ad hoc CSV: field delimiter (default: detected)')
    .option('--no-header', 'ad hoc CSV: the first line is data, not column names')
    .addOption(new Option('--encoding <name>', 'ad hoc CSV: text encoding').choices(['utf-8', 'latin-1', 'utf-16']))
    .addOption(new Option('--on-error <policy>', 'ad hoc: bad rows/files policy').choices(['reject', 'quarantine', 'fail']))
    .option('--strict', 'a declared source whose glob matches no file is an error (default: a warning)')
    .addHelpText(
      'after',
      `
Examples:
  tributary ingest                       run every declared source
  tributary ingest achats clients        run two sources
  tributary ingest 'drop/*.csv' --into bronze.drops --delimiter ';'

Files already ingested (same content hash) are skipped; a changed file replaces its previous version's rows
(onChange: 'keep' in the source keeps every version).
Unreadable or invalid files go to quarantine (see \`tributary quarantine ls\`); rows that fail type
conversion go to the table <layer.table>_rejects with file, line and reason.`,
    )
    .action(
      async (
        args: string[],
        opts: {
          into?: string;
          format?: FileSourceConfig['format'];
          delimiter?: string;
          header: boolean;
          encoding?: CsvOptions['encoding'];
          onError?: FileSourceConfig['onError'];
          strict?: boolean;
        },
        cmd: Command,
      ) => {
        const progress = new Progress(!globals(cmd).json);
        const onProgress = (p: IngestProgress) =>
          progress.update(
            p.phase === 'hashing'
              ? `${p.source}: hashing ${p.done}/${p.total} files`
              : `${p.source}: ${p.phase} ${formatBytes(p.done)} / ${formatBytes(p.total)}${p.total ? ` (${Math.floor((100 * p.done) / p.total)}%)` : ''}`,
          );
        const report = await withLake(cmd, async (lake) => {
          try {
            if (opts.into) {
              if (args.length === 0) throw new TributaryError('INVALID_INPUT', 'ingest --into: give at least one path or glob');
              const csv: CsvOptions = {
                ...(opts.delimiter ? { delimiter: opts.delimiter } : {}),
                ...(opts.header === false ? { header: false } : {}),
                ...(opts.encoding ? { encoding: opts.encoding } : {}),
              };
              const overrides = {
                ...(opts.format ? { format: opts.format } : {}),
                ...(Object.keys(csv).length ? { csv } : {}),
                ...(opts.onError ? { onError: opts.onError } : {}),
              };
              return await runIngestFiles(lake, args, opts.into, overrides, { onProgress });
            }
            return await runIngest(lake, args, { onProgress, ...(opts.strict ? { strict: true } : {}) });
          } finally {
            progress.done();
          }
        });
        emit(cmd, report, () => describe(report));
      },
    );
}

function describe(report: IngestRunReport): string {
  const lines: string[] = [];
  const rows = report.sources.map((s) => ({
    source: s.source,
    table: s.table,
    found: s.discovered,
    ingested: s.ingested.length,
    unchanged: s.unchanged,
    quarantined: s.quarantined.length + s.stillQuarantined.length,
    rows: s.rows,
    rejected_rows: s.rejectedRows,
  }));
  lines.push(renderTable(Object.keys(rows[0] ?? { source: '' }), rows));
  for (const s of report.sources) {
    for (const q of s.quarantined) lines.push(`quarantined #${q.id} ${q.path}: ${q.reason}`);
    for (const q of s.stillQuarantined)
      lines.push(`still quarantined #${q.id} ${q.path} (unchanged since; \`tributary quarantine retry ${q.id}\` after fixing the config)`);
    for (const f of s.ingested) if (f.replacedRows) lines.push(`${f.path} changed: its new version replaced the ${f.replacedRows} row(s) of the previous one`);
    for (const f of s.skipped) lines.push(`warning: skipped ${f.path}: ${f.reason}`);
    for (const w of s.warnings) lines.push(`warning: source ${s.source}: ${w}`);
    if (s.rejectedRows) lines.push(`${s.rejectedRows} rejected row(s) of ${s.source} are in ${s.table}_rejects`);
  }
  lines.push(`run ${report.runId}: ${report.status}`);
  return lines.join('\n');
}
