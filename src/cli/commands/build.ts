import { Command } from 'commander';
import { runBuild, type BuildReport } from '../../orchestration/build.js';
import { emit, globals, stopOnSignals, withLake } from '../context.js';
import { Progress, renderTable } from '../output.js';
import { describeChecks } from './models.js';

const collect = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

export function buildCommand(): Command {
  return new Command('build')
    .description('ingest the sources, build the models and run the checks, in dependency order, with one summary (like dbt build)')
    .option(
      '-s, --select <selectors>',
      'assets to build, as in jobs: source:<name>, source:*, a model, a layer, gold.*, +model, model+ (repeatable, or comma-separated)',
      collect,
      [],
    )
    .option('--exclude <selectors>', 'assets to leave out, with the same selectors', collect, [])
    .addHelpText(
      'after',
      `
Examples:
  tributary build                          every source, model and check
  tributary build --select +gold.kpis      gold.kpis with everything it depends on
  tributary build --exclude source:*       models and checks only, on what the lake holds

A failure stops only what depends on it. Exit code 1 when an asset failed or an error check failed.`,
    )
    .action(async (opts: { select: string[]; exclude: string[] }, cmd: Command) => {
      const progress = new Progress(!globals(cmd).json);
      const controller = stopOnSignals();
      try {
        const report = await withLake(cmd, (lake) =>
          runBuild(lake, {
            select: opts.select,
            exclude: opts.exclude,
            signal: controller.signal,
            onAsset: (o, i, n) => progress.update(`[${i + 1}/${n}] ${o.asset}: ${o.status}`),
          }).finally(() => progress.done()),
        );
        emit(cmd, report, () => describeBuild(report));
        if (report.status === 'failed') process.exitCode = 1;
      } finally {
        controller.dispose();
      }
    });
}

export function describeBuild(report: BuildReport): string {
  const rows = report.assets.map((a) => ({
    asset: a.asset,
    kind: a.kind,
    status: a.status,
    rows_in: a.rowsIn ?? '',
    rows_out: a.rowsOut ?? '',
    seconds: a.seconds.toFixed(2),
    detail: a.detail,
  }));
  const lines = [renderTable(['asset', 'kind', 'status', 'rows_in', 'rows_out', 'seconds', 'detail'], rows)];
  for (const a of report.assets) if (a.error) lines.push(`${a.asset}: ${a.error}`);
  lines.push(...describeChecks(report.checks, true));
  const count = (...s: string[]) => report.assets.filter((a) => s.includes(a.status)).length;
  const passed = report.checks.filter((c) => c.status === 'pass').length;
  lines.push(
    `build ${report.runId}: ${report.status} · ${report.assets.length} assets: ${count('success')} built, ${count('fresh')} fresh, ${count('failed', 'failed_checks')} failed, ${count('blocked')} blocked · checks: ${passed} passed, ${report.checks.length - passed} not passed`,
  );
  return lines.join('\n');
}
