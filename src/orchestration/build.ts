import type { CheckResultRecord } from '../catalog/run-log.js';
import { blocks } from '../checks/checks.js';
import { checkTables } from '../checks/run.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { loadGraph } from '../models/run.js';
import { newId } from '../util/ids.js';
import { createLogger } from '../util/logger.js';
import { AssetGraph, type AssetKind } from './assets.js';
import { assetKindOf } from './kinds/index.js';
import { executeTask, type TaskSummary } from './execute.js';

/** What `tributary build` builds when nothing is selected: dbt's build — sources, models and checks. */
export const DEFAULT_BUILD_SELECTION = ['source:*', '*.*', 'check:*'];

export interface BuildOptions {
  /** Asset selectors, as in jobs (`source:*`, `silver`, `+gold.kpis`, `gold.*`…); default DEFAULT_BUILD_SELECTION. */
  select?: readonly string[];
  /** Selectors of assets to leave out. */
  exclude?: readonly string[];
  signal?: AbortSignal;
  onAsset?: (outcome: BuildAssetOutcome, index: number, total: number) => void;
}

export interface BuildAssetOutcome {
  asset: string;
  kind: AssetKind;
  /** success | fresh (a model whose inputs did not change) | failed | failed_checks | blocked (an upstream failed) */
  status: 'success' | 'fresh' | 'failed' | 'failed_checks' | 'blocked';
  /** What it did, in a few words (files ingested and quarantined, checks failing…). */
  detail: string;
  rowsIn: number | undefined;
  rowsOut: number | undefined;
  seconds: number;
  error: string | undefined;
}

export interface BuildReport {
  runId: string;
  status: 'success' | 'failed';
  assets: BuildAssetOutcome[];
  /** Every check run by the build, passing ones included. */
  checks: CheckResultRecord[];
}

/**
 * Ingests the selected sources, builds the selected models and runs the checks, in dependency order and in this
 * process, as one recorded run. A failure stops only what depends on it; the report says what passed too.
 */
export async function runBuild(lake: Lake, options: BuildOptions = {}): Promise<BuildReport> {
  const graph = new AssetGraph(lake.config, await loadGraph(lake));
  const selectors = options.select?.length ? options.select : DEFAULT_BUILD_SELECTION.filter((s) => matchesAny(graph, s));
  const excluded = new Set(options.exclude?.length ? graph.select(options.exclude, '--exclude') : []);
  const selected = (selectors.length ? graph.select(selectors, '--select') : []).filter((k) => !excluded.has(k));
  if (selected.length === 0) {
    throw new TributaryError('INVALID_INPUT', 'build: nothing to build', {
      hint: 'declare sources or add models (models/<layer>/<name>.sql), or check --select / --exclude',
    });
  }
  const dependencies = graph.dependencies(selected);
  const runId = newId('build-');
  await lake.catalog.runs.start(runId, 'build');
  const report: BuildReport = { runId, status: 'success', assets: [], checks: [] };
  // The report says what each asset did; the log (TRIBUTARY_LOG_LEVEL=info for every step) only shows errors.
  const logger = createLogger('build', { level: process.env.TRIBUTARY_LOG_LEVEL ?? 'error' });
  const signal = options.signal ?? new AbortController().signal;
  const failed = new Set<string>();
  try {
    for (const [i, key] of selected.entries()) {
      if (signal.aborted) break;
      const asset = graph.get(key);
      const started = performance.now();
      const outcome: BuildAssetOutcome = {
        asset: key,
        kind: asset.kind,
        status: 'success',
        detail: '',
        rowsIn: undefined,
        rowsOut: undefined,
        seconds: 0,
        error: undefined,
      };
      const upstreamFailed = (dependencies.get(key) ?? []).filter((u) => failed.has(u));
      if (upstreamFailed.length) {
        outcome.status = 'blocked';
        outcome.error = `not built: ${upstreamFailed.join(', ')} failed`;
      } else {
        try {
          const summary: TaskSummary = await executeTask(lake, key, { runId, partition: undefined, logger, signal });
          if (summary.status === 'fresh') {
            outcome.status = 'fresh';
            // As dbt build does, a model's checks run even when it is fresh: the summary covers every check.
            if (lake.config.checks[key]?.length) {
              const checked = await checkTables(lake, [key], { runId });
              if (checked.results.some(blocks)) {
                outcome.status = 'failed_checks';
                outcome.error = `checks failed on ${key}: ${checked.results
                  .filter(blocks)
                  .map((r) => r.check)
                  .join(', ')}`;
              }
            }
          } else {
            outcome.rowsIn = typeof summary.rowsIn === 'number' ? summary.rowsIn : undefined;
            outcome.rowsOut = typeof summary.rowsOut === 'number' ? summary.rowsOut : undefined;
          }
          outcome.detail = describeSummary(key, summary);
        } catch (err) {
          outcome.status = err instanceof TributaryError && err.code === 'CHECKS_FAILED' ? 'failed_checks' : 'failed';
          const hint = err instanceof TributaryError && err.hint ? ` (${err.hint})` : '';
          outcome.error = `${errorMessage(err).split('\n')[0]!.replace(`${key}: `, '')}${hint}`;
        }
      }
      if (outcome.status === 'failed' || outcome.status === 'failed_checks' || outcome.status === 'blocked') failed.add(key);
      outcome.seconds = (performance.now() - started) / 1000;
      report.assets.push(outcome);
      options.onAsset?.(outcome, i, selected.length);
    }
    report.checks = await lake.catalog.runLog.checkResults(runId);
    report.status = failed.size ? 'failed' : 'success';
    await lake.catalog.runs.finish(runId, report.status, summarise(report), failed.size ? `${failed.size} asset(s) failed or blocked` : undefined);
    return report;
  } catch (err) {
    await lake.catalog.runs.finish(runId, 'failed', summarise(report), errorMessage(err)).catch(() => undefined);
    throw err;
  }
}

function describeSummary(key: string, s: TaskSummary): string {
  return assetKindOf(key).handler.describe?.(s) ?? '';
}

function matchesAny(graph: AssetGraph, selector: string): boolean {
  try {
    return graph.select([selector], 'build').length > 0;
  } catch {
    return false;
  }
}

function summarise(report: BuildReport): Record<string, unknown> {
  const count = (s: BuildAssetOutcome['status']) => report.assets.filter((a) => a.status === s).length;
  return {
    assets: report.assets.length,
    success: count('success'),
    fresh: count('fresh'),
    failed: count('failed') + count('failed_checks'),
    blocked: count('blocked'),
    checks: { passed: report.checks.filter((c) => c.status === 'pass').length, failed: report.checks.filter((c) => c.status !== 'pass').length },
  };
}
