import { blocks, checkName, checkSnapshots, specHash } from '../checks/checks.js';
import { Engine } from '../engine/engine.js';
import { sourceConnector } from '../sources/registry.js';
import type { Lake } from '../lake/lake.js';
import { modelIsFresh } from '../models/run.js';

/** Why a task has nothing to do (then a worker finishes it without a task process), or undefined: run it. */
export type FreshnessTest = (task: string, partition?: string) => Promise<string | undefined>;

/**
 * A worker's test of whether a task would do nothing, with an engine of its own (it only parses SQL, and must not
 * share a connection with a server or scheduler of the same process); one test at a time. It says "fresh" only when
 * running the task would change nothing:
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
  if (task.startsWith('source:')) return sourceIsFresh(lake, task.slice('source:'.length), partition);
  if (task.startsWith('check:')) return checksAreFresh(lake, engine, task.slice('check:'.length));
  if (task.includes(':')) return undefined;
  return (await modelIsFresh(lake, engine, task)) ? 'same SQL, inputs unchanged since its last build' : undefined;
}

async function sourceIsFresh(lake: Lake, name: string, partition: string | undefined): Promise<string | undefined> {
  const config = lake.config.sources[name];
  if (!config) return undefined; // the task reports the error
  const plan = await sourceConnector(config.kind).plan({ lake, name, ...(partition ? { partition } : {}) }, config);
  return plan.upToDate ? [plan.summary, ...plan.warnings].join('; ') : undefined;
}

async function checksAreFresh(lake: Lake, engine: Engine, table: string): Promise<string | undefined> {
  const specs = lake.config.checks[table];
  if (!specs?.length || specs.some((s) => s.kind === 'freshness')) return undefined;
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
}

function sameSnapshots(a: Record<string, number> | undefined, b: Record<string, number>): boolean {
  return a !== undefined && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([t, id]) => a[t] === id);
}
