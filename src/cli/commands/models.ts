import { Command, Option } from 'commander';
import { checkTables } from '../../checks/run.js';
import type { CheckResultRecord } from '../../catalog/run-log.js';
import { loadGraph, runModels, type ModelRunReport } from '../../models/run.js';
import { emit, globals, print, withLake } from '../context.js';
import { Progress, renderTable, toJson } from '../output.js';

export function runCommand(): Command {
  return new Command('run')
    .description('materialize SQL models in dependency order (skipping fresh ones), with their checks')
    .argument('[targets...]', 'models (layer.table), layers (silver), +name (with upstream), name+ (with downstream); default all')
    .option('--full-refresh', 'rebuild from all inputs, even fresh and incremental models')
    .action(async (targets: string[], opts: { fullRefresh?: boolean }, cmd: Command) => {
      const progress = new Progress(!globals(cmd).json);
      const report = await withLake(cmd, (lake) =>
        runModels(lake, {
          targets,
          fullRefresh: Boolean(opts.fullRefresh),
          onModel: (o, i, n) => progress.update(`[${i + 1}/${n}] ${o.model}: ${o.status}`),
        }).finally(() => progress.done()),
      );
      emit(cmd, report, () => describeRun(report));
      if (report.status === 'failed') process.exitCode = 1;
    });
}

export function describeRun(report: ModelRunReport): string {
  const rows = report.models.map((m) => ({
    model: m.model,
    status: m.status,
    mode: m.mode ?? '',
    rows_in: m.rowsIn ?? '',
    rows_out: m.rowsOut ?? '',
    snapshot: m.snapshotId ?? '',
    seconds: m.seconds.toFixed(2),
  }));
  const lines = [renderTable(['model', 'status', 'mode', 'rows_in', 'rows_out', 'snapshot', 'seconds'], rows)];
  for (const m of report.models) if (m.error) lines.push(`${m.model}: ${m.error}`);
  const checks = [...report.inputChecks, ...report.models.flatMap((m) => m.checks)];
  lines.push(...describeChecks(checks, false));
  lines.push(`run ${report.runId}: ${report.status}`);
  return lines.join('\n');
}

/** Failed checks, each with the table, the check and a sample of failing rows. */
export function describeChecks(results: readonly CheckResultRecord[], all: boolean): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if (r.status === 'pass' && !all) continue;
    const what = r.status === 'pass' ? 'pass' : r.status === 'error' ? `could not run: ${r.error}` : `${r.failingRows} failing row(s)`;
    lines.push(`${r.severity === 'error' && r.status !== 'pass' ? 'FAIL' : r.status === 'pass' ? 'ok  ' : 'WARN'} ${r.table} ${r.check}: ${what}`);
    if (r.sample.length)
      lines.push(
        ...renderTable(Object.keys(r.sample[0]!), r.sample, 40)
          .split('\n')
          .map((l) => `       ${l}`),
      );
  }
  return lines;
}

export function checkCommand(): Command {
  return new Command('check')
    .description('run data-quality checks on the current snapshots of tables (all with checks, or those named)')
    .argument('[targets...]', 'tables (layer.table) or layers')
    .option('--all', 'also list checks that pass')
    .action(async (targets: string[], opts: { all?: boolean }, cmd: Command) => {
      const report = await withLake(cmd, (lake) => checkTables(lake, targets));
      emit(cmd, report, () =>
        [
          ...describeChecks(report.results, Boolean(opts.all)),
          `${report.results.length} check(s), ${report.results.filter((r) => r.status !== 'pass').length} not passing; run ${report.runId}: ${report.status}`,
        ].join('\n'),
      );
      if (report.status === 'failed') process.exitCode = 1;
    });
}

export function graphCommand(): Command {
  return new Command('graph')
    .description('print the models and the tables they read, in dependency order')
    .addOption(new Option('--format <format>', 'text | dot | json').choices(['text', 'dot', 'json']).default('text'))
    .action(async (opts: { format: string }, cmd: Command) => {
      const graph = await withLake(cmd, (lake) => loadGraph(lake));
      const format = globals(cmd).json ? 'json' : opts.format;
      print(format === 'json' ? toJson(graph.toJson()) : format === 'dot' ? graph.toDot() : graph.toText());
    });
}
