import type { CheckResultRecord } from '../catalog/run-log.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { loadGraph } from '../models/run.js';
import { newId } from '../util/ids.js';
import { blocks, checkDependencies, checkName, checkSnapshots, runChecks } from './checks.js';

export interface CheckRunReport {
  runId: string;
  status: 'success' | 'failed';
  results: CheckResultRecord[];
}

/** Runs the declared checks of tables (all, or those named / in the named layers) on their current snapshots. */
export async function checkTables(lake: Lake, targets: readonly string[] = [], options: { runId?: string } = {}): Promise<CheckRunReport> {
  const declared = Object.keys(lake.config.checks).sort();
  const tables = targets.length ? declared.filter((t) => targets.includes(t) || targets.includes(t.split('.')[0]!)) : declared;
  for (const target of targets) {
    if (!declared.some((t) => t === target || t.split('.')[0] === target)) {
      throw new TributaryError('NOT_FOUND', `no checks are declared for "${target}"`, { hint: `tables with checks: ${declared.join(', ') || 'none'}` });
    }
  }
  // Checks of a table nothing produces are a typo: named before anything runs (jobs were checked when loaded).
  if (options.runId === undefined) await loadGraph(lake);
  // A job's `check:` task records its results under the job's run.
  const owned = options.runId === undefined;
  const runId = options.runId ?? newId('check-');
  if (owned) await lake.catalog.runs.start(runId, 'checks');
  try {
    const results: CheckResultRecord[] = [];
    // The checked tables, and the tables their checks read, are mounted at their current snapshot (not the whole lake).
    const existing = new Set((await lake.tables()).map((t) => t.name));
    const needed = new Set<string>();
    const snapshots = new Map<string, Record<string, number>>();
    for (const table of tables) snapshots.set(table, await checkSnapshots(lake.engine, lake.catalog, table, lake.config.checks[table]!));
    for (const table of tables) {
      needed.add(table);
      for (const spec of lake.config.checks[table]!) for (const t of await checkDependencies(lake.engine, table, spec)) needed.add(t);
    }
    await lake.mount([...needed].filter((t) => existing.has(t)));
    for (const table of tables) {
      const specs = lake.config.checks[table]!;
      if (!(await lake.catalog.getTable(table))) {
        results.push(
          ...specs.map((spec) => ({
            runId,
            table,
            check: checkName(spec),
            severity: spec.severity ?? 'error',
            status: 'error' as const,
            failingRows: 0,
            sample: [],
            error: `table ${table} does not exist yet`,
            checkedAt: new Date(),
          })),
        );
        continue;
      }
      results.push(...(await runChecks(lake.engine, table, specs, runId, snapshots.get(table))));
    }
    await lake.catalog.runLog.recordChecks(results);
    const status = results.some(blocks) ? 'failed' : 'success';
    if (owned) await lake.catalog.runs.finish(runId, status, { checks: results.length, failed: results.filter((r) => r.status !== 'pass').length });
    return { runId, status, results };
  } catch (err) {
    if (owned) await lake.catalog.runs.finish(runId, 'failed', null, errorMessage(err)).catch(() => undefined);
    throw err;
  }
}
