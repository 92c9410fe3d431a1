import { blocks, runChecks } from '../checks/checks.js';
import type { CheckResultRecord } from '../catalog/run-log.js';
import type { DataFile } from '../catalog/types.js';
import type { CheckSpec } from '../config/types.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Lake, WrittenFiles } from '../lake/lake.js';
import { quoteIdent } from '../engine/sql.js';
import type { ModelDefinition } from './model.js';

/** How a model is built this time: from all of its inputs, or from the new files of its incremental input. */
export type BuildMode = 'full' | 'incremental';

export interface BuildPlan {
  model: ModelDefinition;
  mode: BuildMode;
  /** The model table's snapshot when the build started (0: none); the commit expects it unchanged. */
  baseSnapshot: number;
  /** Files of the incremental input added since the last build (incremental mode only). */
  newInputFiles: DataFile[] | undefined;
  checks: CheckSpec[];
  /** Other tables the checks read; mounted at their current snapshot for the audit. */
  checkReads: string[];
  runId: string;
  /** Receives the check results as soon as they exist (they are recorded even if publishing then fails). */
  onChecks?: (results: CheckResultRecord[]) => void;
}

export interface BuildResult {
  rowsOut: number;
  snapshotId: number | undefined;
  checks: CheckResultRecord[];
  /** True when an `error` check failed: nothing was published. */
  blocked: boolean;
}

const NEW_ROWS = '__tributary_new_rows';

/**
 * Builds one model write-audit-publish: writes its new snapshot's files, runs the table's checks against that
 * candidate (mounted under the model's own name), and commits only if no `error` check fails. Bad data therefore
 * never becomes the current snapshot, and what reads the table downstream never sees it.
 */
export async function buildModel(lake: Lake, plan: BuildPlan): Promise<BuildResult> {
  const { model } = plan;
  const current = plan.baseSnapshot ? await lake.catalog.resolveSnapshot(model.name) : undefined;
  let select = model.sql;
  let appendOnly = false;
  if (plan.mode === 'incremental' && model.materialized === 'incremental') appendOnly = true;
  if (plan.mode === 'incremental' && model.materialized === 'merge' && current) {
    // The model's SQL runs once, over the new input; existing rows with a key among the new rows are replaced.
    await lake.engine.run(`CREATE OR REPLACE TEMP TABLE ${NEW_ROWS} AS ${model.sql}`).catch((err: unknown) => {
      throw sqlError(model, err);
    });
    const same = model.uniqueKey.map((k) => `n.${quoteIdent(k)} IS NOT DISTINCT FROM e.${quoteIdent(k)}`).join(' AND ');
    const existing = await lake.selectOfFiles(current.files, current.snapshot.schema);
    select = `SELECT * FROM (${existing}) AS e WHERE NOT EXISTS (SELECT 1 FROM ${NEW_ROWS} AS n WHERE ${same}) UNION ALL BY NAME SELECT * FROM ${NEW_ROWS}`;
  }

  let written: WrittenFiles;
  try {
    written = await lake.writeFiles(model.name, select);
  } catch (err) {
    throw sqlError(model, err);
  } finally {
    if (select !== model.sql) await lake.engine.run(`DROP TABLE IF EXISTS ${NEW_ROWS}`).catch(() => undefined);
  }

  // Audit: the candidate snapshot is what the table would be after the commit.
  const candidateFiles = appendOnly && current ? [...current.files, ...written.files] : written.files;
  await lake.mountSelect(model.name, await lake.selectOfFiles(candidateFiles, written.schema.length ? written.schema : (current?.snapshot.schema ?? [])));
  // Checks see whole tables: an input mounted as its new files only is mounted whole again.
  const others = [...new Set([...plan.checkReads, ...(plan.model.incrementalInput ? [plan.model.incrementalInput] : [])])].filter((t) => t !== model.name);
  const existing = new Set((await lake.tables()).map((t) => t.name));
  await lake.mount(others.filter((t) => existing.has(t))); // a missing one makes its check fail, naming it
  const checks = await runChecks(lake.engine, model.name, withImplicitChecks(plan), plan.runId);
  plan.onChecks?.(checks);
  if (checks.some(blocks)) {
    await lake.abandon(written.files);
    await lake.mount([model.name]).catch(() => undefined); // back to the published snapshot, if any
    return { rowsOut: written.rowCount, snapshotId: undefined, checks, blocked: true };
  }

  // Publish.
  const result = await lake.commit({
    runId: plan.runId,
    changes: [
      { ...lake.change(written, appendOnly ? 'append' : 'overwrite', { model: model.displayFile, mode: plan.mode }), expectedSnapshot: plan.baseSnapshot },
    ],
  });
  return { rowsOut: written.rowCount, snapshotId: result.snapshots[model.name], checks, blocked: false };
}

/** A merge model's unique key must be unique, or later merges would be ambiguous: it is always checked. */
function withImplicitChecks(plan: BuildPlan): CheckSpec[] {
  if (plan.model.materialized !== 'merge') return plan.checks;
  const implicit: CheckSpec = { kind: 'unique', columns: plan.model.uniqueKey, name: `unique_key(${plan.model.uniqueKey.join(', ')})` };
  return [implicit, ...plan.checks];
}

/** DuckDB reports `LINE n:` of the statement; the model's SQL starts on line 1 of it, so n is the file's line. */
export function sqlError(model: ModelDefinition, err: unknown): TributaryError {
  const original = err instanceof TributaryError && err.cause !== undefined ? err.cause : err;
  const message = errorMessage(original);
  const line = /LINE (\d+):/.exec(message)?.[1];
  const first = message.split('\n')[0]!.replace(/^writing [^:]+: /, '');
  return new TributaryError('SQL_ERROR', `${model.displayFile}${line ? `:${line}` : ''}: ${first}`, { cause: err });
}
