import type { ResolvedConfig } from '../../config/types.js';
import type { Engine } from '../../engine/engine.js';
import { TributaryError } from '../../errors.js';
import { Registry } from '../../util/registry.js';
import type { Lake } from '../../lake/lake.js';
import type { ModelGraph } from '../../models/graph.js';
import type { Logger } from '../../util/logger.js';

export interface TaskContext {
  runId: string;
  partition: string | undefined;
  logger: Logger;
  signal: AbortSignal;
}

/** What a task did, recorded with its attempt and counted by the metrics. */
export interface TaskSummary {
  rowsIn?: number;
  rowsOut?: number;
  filesIngested?: number;
  filesQuarantined?: number;
  rejectedRows?: number;
  checkFailures?: number;
  [key: string]: unknown;
}

/** An asset as its kind declares it: its key (`<kind>:<name>`, or a model's table name), what it writes and reads. */
export interface AssetDeclaration {
  key: string;
  /** Lake tables it writes. */
  writes: string[];
  /** Lake tables it reads: it waits for their checks when they have some, else for what produces them. */
  reads: string[];
  /** Keys of assets that wait for this one although they read nothing it writes (a probe before a source). */
  before?: string[];
}

export interface DeclareContext {
  config: ResolvedConfig;
  models: ModelGraph;
}

/**
 * A kind of asset (Dagster's asset, dbt's resource type): sources, models, checks, syncs, streams, and what comes
 * next (publishing to a topic, exports). A handler declares its assets from the project and executes one; the
 * asset graph, jobs, workers, `tributary build` and the dashboard know kinds only through it.
 */
export interface AssetKindHandler {
  /** The key prefix (`source` in `source:sales`); the model kind's keys are bare table names. */
  readonly kind: string;
  declare(ctx: DeclareContext): AssetDeclaration[];
  /** Materializes one asset (`name`: the key without its prefix) under a job's or a build's run. */
  execute(lake: Lake, name: string, ctx: TaskContext): Promise<TaskSummary>;
  /**
   * Why the asset has nothing to do (then a worker records its task as a success without a task process), or
   * undefined. Kinds without it always get a process.
   */
  isFresh?(lake: Lake, engine: Engine, name: string, partition: string | undefined): Promise<string | undefined>;
  /** A few words on what a task did, for `tributary build`'s summary. */
  describe?(summary: TaskSummary): string;
  /** On SIGTERM, let the task finish its unit of work (a stream's batch) instead of exiting at once. */
  readonly stopsGracefully?: boolean;
}

/** Kinds in registration order: assets are declared in it (a check needs to know which tables models build). */
const kinds = new Registry<AssetKindHandler>('asset kind');

/** Makes an asset kind part of the graph. Registering again replaces (a config loaded again); built-ins stay. */
export function registerAssetKind(handler: AssetKindHandler): void {
  kinds.register(handler.kind, handler);
}

/** The built-in kinds (orchestration/kinds/index.ts). */
export function registerBuiltInAssetKind(handler: AssetKindHandler): void {
  kinds.register(handler.kind, handler, { builtIn: true });
}

export function unregisterAssetKind(kind: string): void {
  kinds.unregister(kind);
}

export function assetKinds(): AssetKindHandler[] {
  return kinds.values();
}

/** The kind of an asset key and its name: `source:sales` → source, sales; `gold.kpis` → model, gold.kpis. */
export function assetKindOf(key: string): { handler: AssetKindHandler; name: string } {
  const colon = key.indexOf(':');
  const prefixed = colon > 0 ? kinds.get(key.slice(0, colon)) : undefined;
  if (prefixed) return { handler: prefixed, name: key.slice(colon + 1) };
  if (colon > 0) throw new TributaryError('NOT_FOUND', `no asset kind "${key.slice(0, colon)}" (kinds: ${kinds.names().join(', ')})`);
  return { handler: kinds.get('model')!, name: key };
}
