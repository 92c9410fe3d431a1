import { Command, Option } from 'commander';
import type { CsvOptions, FileSourceConfig } from '../../config/types.js';
import { TributaryError, errorMessage } from '../../errors.js';
import type { IngestProgress } from '../../sources/connector.js';
import { runIngest, runIngestFiles, type IngestRunReport } from '../../ingest/run.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lake } from '../../lake/lake.js';
import { toMillis } from '../../util/duration.js';
import { emit, globals, print, stopOnSignals, withLake } from '../context.js';
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
    .option('--every <duration>', "poll: run again at this interval ('10s', '5m') until Ctrl-C or SIGTERM; each run is one commit")
    .addHelpText(
      'after',
      `
Examples:
  tributary ingest                       run every declared source
  tributary ingest achats clients        run two sources
  tributary ingest 'drop/*.csv' --into bronze.drops --delimiter ';'
  tributary ingest coincap --every 10s   poll an HTTP source every 10 seconds

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
          every?: string;
        },
        cmd: Command,
      ) => {
        if (opts.every !== undefined) {
          if (opts.into) throw new TributaryError('INVALID_INPUT', 'ingest --every polls declared sources, not ad hoc files (--into)');
          const interval = toMillis(opts.every.trim(), '--every');
          if (interval < 100) throw new TributaryError('INVALID_INPUT', `--every ${opts.every}: poll at most every 100 ms`);
          await withLake(cmd, (lake) => poll(cmd, lake, args, interval, opts.strict === true));
          return;
        }
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

/**
 * `--every`: runs the sources at a fixed rate until a signal, each run one commit per source. A failed poll is
 * reported and the next one goes on (an API down for a minute does not stop the poller); the exit code says whether
 * the last poll failed.
 */
async function poll(cmd: Command, lake: Lake, names: string[], interval: number, strict: boolean): Promise<void> {
  const { signal, dispose } = stopOnSignals();
  const json = globals(cmd).json;
  let polls = 0;
  let failedLast = false;
  try {
    while (!signal.aborted) {
      const started = Date.now();
      polls++;
      try {
        const report = await runIngest(lake, names, { ...(strict ? { strict: true } : {}) });
        failedLast = false;
        if (json) print(JSON.stringify({ poll: polls, at: new Date(started).toISOString(), ...report }));
        else {
          const rows = report.sources.reduce((n, s) => n + s.rows, 0);
          const quarantined = report.sources.reduce((n, s) => n + s.quarantined.length, 0);
          print(
            `${new Date(started).toISOString()} poll ${polls}: ${rows} row(s) from ${report.sources.map((s) => s.source).join(', ')}${quarantined ? `, ${quarantined} response(s) quarantined` : ''} in ${Date.now() - started} ms (run ${report.runId})`,
          );
          for (const s of report.sources) {
            for (const q of s.quarantined) print(`  quarantined #${q.id} ${q.path}: ${q.reason}`);
            for (const w of s.warnings) print(`  warning: source ${s.source}: ${w}`);
            for (const c of s.schemaChanges) print(`  schema of ${s.table}: ${c}`);
          }
        }
      } catch (err) {
        failedLast = true;
        const hint = err instanceof TributaryError && err.hint ? ` (${err.hint})` : '';
        if (json) print(JSON.stringify({ poll: polls, at: new Date(started).toISOString(), status: 'failed', error: errorMessage(err) }));
        else process.stderr.write(`${new Date(started).toISOString()} poll ${polls} failed: ${errorMessage(err)}${hint}\n`);
      }
      // A fixed rate: the next poll starts one interval after this one started (at once if this one took longer).
      const wait = Math.max(0, started + interval - Date.now());
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    dispose();
  }
  if (!json) print(`stopped after ${polls} poll(s)`);
  if (failedLast) process.exitCode = 1;
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
    for (const c of s.schemaChanges) lines.push(`schema of ${s.table}: ${c}`);
    if (s.rejectedRows) lines.push(`${s.rejectedRows} rejected row(s) of ${s.source} are in ${s.table}_rejects`);
  }
  lines.push(`run ${report.runId}: ${report.status}`);
  return lines.join('\n');
}
