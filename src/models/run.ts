import { blocks, checkDependencies, checkSnapshots, runChecks } from '../checks/checks.js';
import { sourceLakeQueries, sourceWrites } from '../sources/registry.js';
import { tableReferences } from '../engine/references.js';
import type { CheckResultRecord, ModelRunRecord } from '../catalog/run-log.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { newId } from '../util/ids.js';
import { ModelGraph } from './graph.js';
import { buildModel, type BuildMode } from './materialize.js';
import { discoverModels } from './model.js';
import { compileStream, streamTables } from '../streams/definition.js';
import { nearest } from '../util/nearest.js';
import type { Engine } from '../engine/engine.js';

export type ModelStatus = 'success' | 'fresh' | 'failed' | 'blocked' | 'failed_checks';

export interface ModelOutcome {
  model: string;
  file: string;
  status: ModelStatus;
  materialized: string;
  mode: BuildMode | undefined;
  rowsIn: number | undefined;
  rowsOut: number | undefined;
  snapshotId: number | undefined;
  seconds: number;
  error: string | undefined;
  checks: CheckResultRecord[];
}

export interface ModelRunReport {
  runId: string;
  status: 'success' | 'failed';
  models: ModelOutcome[];
  /** Checks of tables the models read but do not build (bronze tables from sources). */
  inputChecks: CheckResultRecord[];
}

export interface RunModelsOptions {
  targets?: readonly string[];
  fullRefresh?: boolean;
  onModel?: (outcome: ModelOutcome, index: number, total: number) => void;
  /**
   * Record the models under this existing run (a job's task) instead of a run of their own. The job's `check:`
   * tasks check the input tables, so they are not checked again here.
   */
  runId?: string;
}

/** Loads the project's models and their dependency graph (dependencies of their checks included). */
export async function loadGraph(lake: Lake): Promise<ModelGraph> {
  const models = await discoverModels(lake.engine, lake.config.modelsPath, lake.config.projectDir);
  const extra: Record<string, string[]> = {};
  // Checks of a table that nothing produces would never run: a typo in a table name, named at load.
  const known = await producedTables(
    lake,
    models.map((m) => m.name),
  );
  for (const table of Object.keys(lake.config.checks)) {
    if (known.has(table)) continue;
    const near = nearest(table, known);
    throw new TributaryError('CONFIG_INVALID', `checks: ${table} is not produced by any source, model or stream, and is not in the lake`, {
      hint: near ? `did you mean ${near}?` : `tables: ${[...known].sort().join(', ') || 'none'}`,
    });
  }
  for (const [table, specs] of Object.entries(lake.config.checks)) {
    for (const spec of specs) extra[table] = [...(extra[table] ?? []), ...(await checkDependencies(lake.engine, table, spec))];
  }
  const sourceReads = new Map<string, string[]>();
  for (const [name, source] of Object.entries(lake.config.sources)) {
    const reads = new Set<string>();
    for (const sql of sourceLakeQueries(source)) for (const t of await tableReferences(lake.engine, sql, `sources.${name}`)) reads.add(t);
    if (reads.size) sourceReads.set(name, [...reads].sort());
  }
  return new ModelGraph(models, extra, sourceReads);
}

/** Tables something in the project produces (sources, their rejects, models, streams' tables), and those in the lake. */
export async function producedTables(lake: Lake, models: readonly string[]): Promise<Set<string>> {
  const { config } = lake;
  const out = new Set<string>(models);
  for (const source of Object.values(config.sources)) {
    for (const table of sourceWrites(source)) out.add(table);
    out.add(`${source.into}_rejects`);
  }
  for (const name of Object.keys(config.streams)) {
    try {
      const s = compileStream(name, config.streams[name]!, { projectDir: config.projectDir });
      for (const t of streamTables(s)) out.add(t);
    } catch {
      // an invalid stream is reported when it is run
    }
  }
  for (const t of await lake.tables()) out.add(t.name);
  return out;
}

/**
 * Materializes models in dependency order, each as one atomic snapshot, skipping those whose inputs did not change
 * since their last success. A failed model, or one whose `error` checks fail, blocks everything downstream of it;
 * independent branches go on. Every model's outcome and every check result is recorded under the run.
 */
export async function runModels(lake: Lake, options: RunModelsOptions = {}): Promise<ModelRunReport> {
  const graph = await loadGraph(lake);
  if (graph.order.length === 0) {
    throw new TributaryError('NOT_FOUND', `no models in ${lake.config.modelsPath}`, { hint: 'add SQL files as models/<layer>/<name>.sql' });
  }
  const selected = graph.select(options.targets ?? []);
  const owned = options.runId === undefined;
  const runId = options.runId ?? newId('run-');
  if (owned) await lake.catalog.runs.start(runId, 'models');
  const blocked = new Set<string>();
  const report: ModelRunReport = { runId, status: 'success', models: [], inputChecks: [] };
  try {
    // Tables read but not built here (sources' bronze tables): check them first; an error check blocks their readers.
    const inputs = [...new Set(selected.flatMap((m) => graph.nodes.get(m)!.upstream))].filter((t) => graph.nodes.get(t)?.kind === 'table');
    for (const table of owned ? inputs : []) {
      const specs = lake.config.checks[table];
      if (!specs?.length || !(await lake.catalog.getTable(table))) continue;
      const snapshots = await checkSnapshots(lake.engine, lake.catalog, table, specs);
      await lake.mount([table, ...(await checkReads(lake, table))]);
      const results = await runChecks(lake.engine, table, specs, runId, snapshots);
      report.inputChecks.push(...results);
      if (results.some(blocks)) blocked.add(table);
    }
    await lake.catalog.runLog.recordChecks(report.inputChecks);

    for (const [index, name] of selected.entries()) {
      const outcome = await runOne(lake, graph, name, runId, blocked, Boolean(options.fullRefresh));
      if (outcome.status === 'failed' || outcome.status === 'failed_checks' || outcome.status === 'blocked') blocked.add(name);
      report.models.push(outcome);
      options.onModel?.(outcome, index, selected.length);
    }
    const failed = report.models.some((m) => m.status !== 'success' && m.status !== 'fresh') || report.inputChecks.some(blocks);
    report.status = failed ? 'failed' : 'success';
    if (owned) await lake.catalog.runs.finish(runId, failed ? 'failed' : 'success', summarise(report));
    return report;
  } catch (err) {
    if (owned) await lake.catalog.runs.finish(runId, 'failed', summarise(report), errorMessage(err)).catch(() => undefined);
    throw err;
  }
}

async function runOne(lake: Lake, graph: ModelGraph, name: string, runId: string, blocked: Set<string>, fullRefresh: boolean): Promise<ModelOutcome> {
  const model = graph.nodes.get(name)!.model!;
  const started = new Date();
  const outcome: ModelOutcome = {
    model: name,
    file: model.displayFile,
    status: 'success',
    materialized: model.materialized,
    mode: undefined,
    rowsIn: undefined,
    rowsOut: undefined,
    snapshotId: undefined,
    seconds: 0,
    error: undefined,
    checks: [],
  };
  const inputSnapshots: Record<string, number> = {};
  try {
    const upstreamBlocked = graph.nodes.get(name)!.upstream.filter((u) => blocked.has(u));
    if (upstreamBlocked.length) {
      outcome.status = 'blocked';
      outcome.error = `not built: ${upstreamBlocked.join(', ')} failed or failed its checks`;
      return outcome;
    }
    let rowsIn = 0;
    for (const input of model.reads) {
      const table = await lake.catalog.getTable(input);
      if (!table || table.currentSnapshot === 0) {
        const produced = await producedTables(lake, graph.order);
        if (!produced.has(input)) {
          const near = nearest(input, produced);
          throw new TributaryError('TABLE_NOT_FOUND', `${model.displayFile}: reads ${input}, which no source, model or stream produces`, {
            hint: near ? `did you mean ${near}?` : `tables: ${[...produced].sort().join(', ') || 'none'}`,
          });
        }
        throw new TributaryError('TABLE_NOT_FOUND', `${model.displayFile}: reads ${input}, which has no data yet`, {
          hint: graph.nodes.get(input)?.kind === 'model' ? `build ${input} first` : 'ingest its source first (`tributary ingest`)',
        });
      }
      inputSnapshots[input] = table.currentSnapshot;
      rowsIn += table.rowCount;
    }
    const own = await lake.catalog.getTable(name);
    const baseSnapshot = own?.currentSnapshot ?? 0;
    const last = await lake.catalog.runLog.lastSuccess(name);
    // The last success only describes the table if the table is still at the snapshot it produced: a crash between
    // commit and record, or another writer, means a full rebuild.
    const continues = last !== undefined && last.sqlHash === model.sqlHash && baseSnapshot > 0 && last.snapshotId === baseSnapshot;
    const unchanged = continues && sameInputs(last.inputSnapshots, inputSnapshots);
    if (unchanged && !fullRefresh) {
      outcome.status = 'fresh';
      outcome.snapshotId = baseSnapshot;
      return outcome;
    }

    // Incremental when the model says so, was built before from the same SQL, and its input only grew since.
    let mode: BuildMode = 'full';
    let newInputFiles: Awaited<ReturnType<typeof lake.catalog.filesAddedSince>>['files'] | undefined;
    const input = model.incrementalInput;
    if (input && !fullRefresh && continues && last.inputSnapshots[input] !== undefined) {
      const added = await lake.catalog.filesAddedSince(input, last.inputSnapshots[input]!, inputSnapshots[input]!);
      if (!added.rewritten) {
        mode = 'incremental';
        newInputFiles = added.files;
      }
    }
    outcome.mode = mode;
    // Inputs are read at the snapshots recorded above, whatever is committed meanwhile.
    for (const read of model.reads) {
      const pinned = await lake.catalog.resolveSnapshot(read, { snapshotId: inputSnapshots[read]! });
      if (mode === 'incremental' && read === input) {
        await lake.mountSelect(read, await lake.selectOfFiles(newInputFiles!, pinned!.snapshot.schema));
        rowsIn -= pinned!.snapshot.rowCount - newInputFiles!.reduce((n, f) => n + f.rowCount, 0);
      } else {
        await lake.mountSelect(read, await lake.selectOfFiles(pinned!.files, pinned!.snapshot.schema));
      }
    }
    outcome.rowsIn = rowsIn;
    if (mode === 'incremental' && newInputFiles!.length === 0) {
      // Only other inputs changed: nothing new to add (the incremental contract), the table stays as it is.
      outcome.rowsOut = 0;
      outcome.snapshotId = baseSnapshot;
      return outcome;
    }
    const result = await buildModel(lake, {
      model,
      mode,
      baseSnapshot,
      newInputFiles,
      runId,
      checks: lake.config.checks[name] ?? [],
      checkReads: await checkReads(lake, name),
      onChecks: (results) => (outcome.checks = results),
    });
    outcome.rowsOut = result.rowsOut;
    outcome.snapshotId = result.snapshotId;
    if (result.blocked) {
      outcome.status = 'failed_checks';
      const failing = result.checks.filter(blocks).map((c) => `${c.check} (${c.status === 'error' ? c.error : `${c.failingRows} failing`})`);
      outcome.error = `not published: checks failed: ${failing.join('; ')}`;
    }
    return outcome;
  } catch (err) {
    outcome.status = 'failed';
    const hint = err instanceof TributaryError && err.hint ? ` (${err.hint})` : '';
    outcome.error = `${errorMessage(err).split('\n')[0]}${hint}`;
    return outcome;
  } finally {
    outcome.seconds = (Date.now() - started.getTime()) / 1000;
    await record(lake, runId, model.sqlHash, outcome, started, inputSnapshots);
  }
}

/** Tables the checks of `table` read besides itself: mounted at their current snapshot before the checks run. */
async function checkReads(lake: Lake, table: string): Promise<string[]> {
  const reads = new Set<string>();
  for (const spec of lake.config.checks[table] ?? []) for (const t of await checkDependencies(lake.engine, table, spec)) reads.add(t);
  return [...reads];
}

/**
 * Whether building `name` now would find it fresh (what runModels decides, without building): the same SQL, the
 * table still at the snapshot of its last success, and every input at the snapshot that success read. Workers use it
 * to finish a fresh model's task without starting a task process. `engine` only parses the models' SQL.
 */
export async function modelIsFresh(lake: Lake, engine: Engine, name: string): Promise<boolean> {
  const model = (await discoverModels(engine, lake.config.modelsPath, lake.config.projectDir)).find((m) => m.name === name);
  if (!model) return false;
  const inputs: Record<string, number> = {};
  for (const input of model.reads) {
    const table = await lake.catalog.getTable(input);
    if (!table || table.currentSnapshot === 0) return false;
    inputs[input] = table.currentSnapshot;
  }
  const base = (await lake.catalog.getTable(name))?.currentSnapshot ?? 0;
  const last = await lake.catalog.runLog.lastSuccess(name);
  return last !== undefined && last.sqlHash === model.sqlHash && base > 0 && last.snapshotId === base && sameInputs(last.inputSnapshots, inputs);
}

function sameInputs(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(b);
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k]);
}

async function record(lake: Lake, runId: string, sqlHash: string, o: ModelOutcome, started: Date, inputs: Record<string, number>): Promise<void> {
  const row: ModelRunRecord = {
    runId,
    model: o.model,
    status: o.status,
    materialization: o.materialized,
    mode: o.mode,
    startedAt: started,
    finishedAt: new Date(),
    rowsIn: o.rowsIn,
    rowsOut: o.rowsOut,
    snapshotId: o.snapshotId,
    inputSnapshots: inputs,
    sqlHash,
    error: o.error,
  };
  await lake.catalog.runLog.recordModel(row);
  await lake.catalog.runLog.recordChecks(o.checks);
}

function summarise(report: ModelRunReport): Record<string, number> {
  const count = (s: ModelStatus) => report.models.filter((m) => m.status === s).length;
  return { built: count('success'), fresh: count('fresh'), failed: count('failed'), failedChecks: count('failed_checks'), blocked: count('blocked') };
}
