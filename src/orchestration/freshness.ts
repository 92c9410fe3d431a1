import { Engine } from '../engine/engine.js';
import type { Lake } from '../lake/lake.js';
import { modelIsFresh } from '../models/run.js';

/**
 * A worker's freshness check for model tasks, with an engine of its own (it only parses the models' SQL, and must not
 * share a connection with a server or scheduler of the same process); one check at a time.
 */
export async function freshnessCheck(lake: Lake): Promise<{ isFresh: (task: string) => Promise<boolean>; close: () => void }> {
  const engine = await Engine.open({ threads: 1 });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    isFresh: (task) => {
      const next = queue.catch(() => undefined).then(() => modelIsFresh(lake, engine, task));
      queue = next;
      return next;
    },
    close: () => engine.close(),
  };
}
