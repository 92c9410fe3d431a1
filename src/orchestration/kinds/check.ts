import { blocks, checkName, checkSnapshots, specHash } from '../../checks/checks.js';
import { checkTables } from '../../checks/run.js';
import { TributaryError } from '../../errors.js';
import type { AssetKindHandler } from './kind.js';

/** `check:<table>`: the checks of a table no model builds (a model's checks run with it). */
export const checkAssets: AssetKindHandler = {
  kind: 'check',
  declare: ({ config, models }) =>
    Object.keys(config.checks)
      .filter((table) => !models.order.includes(table))
      .map((table) => ({ key: `check:${table}`, writes: [], reads: [table] })),
  async execute(lake, table, { runId, logger }) {
    const report = await checkTables(lake, [table], { runId });
    const failing = report.results.filter((r) => r.status !== 'pass');
    for (const r of failing)
      logger.warn(
        { check: r.check, status: r.status, failingRows: r.failingRows, severity: r.severity },
        `check ${r.check} on ${table}: ${r.status === 'error' ? r.error : `${r.failingRows} failing row(s)`}`,
      );
    logger.info(`${report.results.length - failing.length}/${report.results.length} checks passed on ${table}`);
    if (report.results.some(blocks)) {
      throw new TributaryError(
        'CHECKS_FAILED',
        `checks failed on ${table}: ${failing
          .filter(blocks)
          .map((r) => r.check)
          .join(', ')}`,
      );
    }
    return { checkFailures: failing.length };
  },
  /** Each check already ran with the same definition on the very snapshots it reads, and none blocked. */
  async isFresh(lake, engine, table) {
    const specs = lake.config.checks[table];
    if (!specs?.length || specs.some((s) => s.kind === 'freshness')) return undefined; // the clock moves
    const snapshots = await checkSnapshots(engine, lake.catalog, table, specs);
    if (Object.values(snapshots).some((id) => id === 0)) return undefined;
    const latest = await lake.catalog.runLog.latestChecks(table);
    const warned: string[] = [];
    for (const spec of specs) {
      const last = latest.get(checkName(spec));
      // Only results that did not block: a failing `error` check runs again, and fails the task as it should.
      if (!last || blocks(last) || last.specHash !== specHash(spec) || !sameSnapshots(last.snapshots, snapshots)) return undefined;
      if (last.status !== 'pass') warned.push(`${last.check}: ${last.status === 'error' ? last.error : `${last.failingRows} failing row(s)`}`);
    }
    const on = Object.entries(snapshots)
      .map(([t, id]) => `${t}@${id}`)
      .join(', ');
    return `its ${specs.length} check(s) already ran on these very snapshots (${on}): ${specs.length - warned.length} passed${warned.length ? `, ${warned.length} warned (${warned.join('; ')})` : ''}`;
  },
  describe: (s) => (s.checkFailures ? `${s.checkFailures} check(s) not passing` : ''),
};

function sameSnapshots(a: Record<string, number> | undefined, b: Record<string, number>): boolean {
  return a !== undefined && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([t, id]) => a[t] === id);
}
