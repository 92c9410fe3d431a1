import { Engine } from '../engine/engine.js';
import type { Lake } from '../lake/lake.js';
import { assetKindOf } from './kinds/index.js';

/** Why a task has nothing to do (then a worker finishes it without a task process), or undefined: run it. */
export type FreshnessTest = (task: string, partition?: string) => Promise<string | undefined>;

/**
 * A worker's test of whether a task would do nothing, with an engine of its own (it only parses SQL, and must not
 * share a connection with a server or scheduler of the same process); one test at a time. Each asset kind says (its
 * handler's `isFresh`, orchestration/kinds/) when running its task would change nothing:
 * - a model: same SQL, and its inputs are at the snapshots of its last successful build;
 * - a source: every file it matches holds content already ingested (or quarantined and not retried);
 * - a table's checks: each already ran, with the same definition, on the very snapshots of the tables it reads, and
 *   none blocked (its warnings are repeated); checks that depend on the clock, `freshness`, always run.
 * Syncs and streams always run: their own tests of "nothing new" need a connection to the store or the log.
 */
export async function freshnessCheck(lake: Lake): Promise<{ isFresh: FreshnessTest; close: () => void }> {
  const engine = await Engine.open({ threads: 1 });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    isFresh: (task, partition) => {
      const next = queue.catch(() => undefined).then(() => whyFresh(lake, engine, task, partition));
      queue = next;
      return next;
    },
    close: () => engine.close(),
  };
}

async function whyFresh(lake: Lake, engine: Engine, task: string, partition: string | undefined): Promise<string | undefined> {
  const { handler, name } = assetKindOf(task);
  return handler.isFresh?.(lake, engine, name, partition);
}
