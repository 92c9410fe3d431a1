import { TributaryError } from '../../errors.js';
import { modelIsFresh, runModels } from '../../models/run.js';
import type { AssetKindHandler } from './kind.js';

/** `<layer>.<name>`: a SQL model, built with its checks (write, audit, publish). */
export const modelAssets: AssetKindHandler = {
  kind: 'model',
  declare: ({ models }) => models.order.map((name) => ({ key: name, writes: [name], reads: models.nodes.get(name)!.upstream })),
  async execute(lake, task, { runId, logger }) {
    const report = await runModels(lake, { targets: [task], runId });
    const outcome = report.models.find((m) => m.model === task);
    if (!outcome) throw new TributaryError('NOT_FOUND', `model ${task} is no longer in the project`);
    const failing = outcome.checks.filter((c) => c.status !== 'pass');
    for (const c of failing)
      logger.warn(
        { check: c.check, status: c.status, failingRows: c.failingRows },
        `check ${c.check} on ${task}: ${c.status === 'error' ? c.error : `${c.failingRows} failing row(s)`}`,
      );
    if (outcome.status === 'failed_checks') throw new TributaryError('CHECKS_FAILED', `${task}: ${outcome.error}`);
    if (outcome.status === 'failed' || outcome.status === 'blocked') throw new TributaryError('MODEL_FAILED', `${task}: ${outcome.error}`);
    logger.info(
      { status: outcome.status, mode: outcome.mode, rowsIn: outcome.rowsIn, rowsOut: outcome.rowsOut, snapshot: outcome.snapshotId },
      outcome.status === 'fresh' ? `${task} is fresh (inputs unchanged)` : `built ${task}`,
    );
    return { rowsIn: outcome.rowsIn ?? 0, rowsOut: outcome.rowsOut ?? 0, checkFailures: failing.length, status: outcome.status };
  },
  async isFresh(lake, engine, name) {
    return (await modelIsFresh(lake, engine, name)) ? 'same SQL, inputs unchanged since its last build' : undefined;
  },
  describe: (s) => (s.checkFailures ? `${s.checkFailures} check(s) not passing` : ''),
};
