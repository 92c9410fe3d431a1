import type { Lake } from '../lake/lake.js';
import { assetKindOf, type TaskContext, type TaskSummary } from './kinds/index.js';

export type { TaskContext, TaskSummary } from './kinds/index.js';

/**
 * Materializes one asset under a job's run, through its kind's handler (orchestration/kinds/). Throws on failure; a
 * TributaryError with code CHECKS_FAILED is not worth retrying (the same data would fail the same checks).
 */
export async function executeTask(lake: Lake, task: string, ctx: TaskContext): Promise<TaskSummary> {
  const { handler, name } = assetKindOf(task);
  return handler.execute(lake, name, ctx);
}
