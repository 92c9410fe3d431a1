import type { Orchestration } from './orchestration.js';

/**
 * Declarative automation (Dagster's "eager"): an automated model is due when an input table has a snapshot it
 * was not last built (or attempted) from, or its SQL changed. Returns the due models with their automated
 * downstream models, in dependency order, each with the selected models it waits for; empty when all are current.
 * A model whose last attempt failed is not retried until an input changes again (a job's retries are for that).
 */
export async function dueAutomatedModels(orch: Orchestration): Promise<{ key: string; upstream: string[] }[]> {
  const { lake, models, automated } = orch;
  const due = new Set<string>();
  for (const name of automated) {
    const model = models.nodes.get(name)!.model!;
    const inputs: Record<string, number> = {};
    let ready = true;
    for (const read of model.reads) {
      const snapshot = (await lake.catalog.getTable(read))?.currentSnapshot ?? 0;
      // An input an automated upstream model will build in this same run counts as changed.
      if (snapshot === 0 && !due.has(read)) ready = false;
      inputs[read] = snapshot;
    }
    if (!ready) continue;
    const last = await lake.catalog.runLog.lastRecord(name);
    const changed = !last || last.sqlHash !== model.sqlHash || model.reads.some((r) => due.has(r) || last.inputSnapshots[r] !== inputs[r]);
    if (changed) due.add(name);
  }
  if (due.size === 0) return [];
  // Automated models downstream of a due one are rebuilt in the same run, after it.
  const automatedSet = new Set(automated);
  for (const name of automated) {
    if (models.nodes.get(name)!.upstream.some((u) => due.has(u) && automatedSet.has(u))) due.add(name);
  }
  const selected = automated.filter((n) => due.has(n));
  const deps = orch.graph.dependencies(selected);
  return selected.map((key) => ({ key, upstream: deps.get(key) ?? [] }));
}
