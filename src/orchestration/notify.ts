import type { FreshnessTest } from './freshness.js';
import type { OrchestrationSettings, ResolvedConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { toMillis } from '../util/duration.js';
import type { Logger } from '../util/logger.js';
import type { RunQueue, FinishedRun } from '../catalog/stores/run-queue.js';
import { Worker } from './worker.js';

/**
 * Posts a finished run to the webhook, as Slack's incoming webhooks expect (`{"text": …}`; Mattermost, Rocket.Chat
 * and Teams workflows take the same). A webhook that is down is logged, never fatal.
 */
export async function notifyRun(settings: OrchestrationSettings, project: string, run: FinishedRun, logger: Logger): Promise<void> {
  const on = settings.notifyOn ?? ['failure'];
  if (!settings.webhook || !on.includes(run.status === 'success' ? 'success' : 'failure')) return;
  const icon = run.status === 'success' ? ':white_check_mark:' : ':x:';
  const seconds = ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1);
  const text = `${icon} ${project}: job *${run.job}*${run.partition ? ` (partition ${run.partition})` : ''} ${run.status} after ${seconds} s — run ${run.runId}${run.error ? `\n> ${run.error}` : ''}`;
  const body = JSON.stringify({
    text,
    username: 'Tributary',
    run: { ...run, startedAt: run.startedAt.toISOString(), finishedAt: run.finishedAt.toISOString() },
  });
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const response = await fetch(settings.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return;
      logger.warn({ runId: run.runId, status: response.status }, `webhook answered ${response.status}`);
    } catch (err) {
      logger.warn({ runId: run.runId, err: errorMessage(err) }, 'webhook could not be reached');
    }
  }
}

const pending = new Set<Promise<void>>();

/** Waits for webhook posts still in flight (before a command exits). */
export async function flushNotifications(): Promise<void> {
  await Promise.all([...pending]);
}

/** A worker with the project's settings, notifying the webhook of the runs it closes. */
export function projectWorker(
  config: ResolvedConfig,
  queue: RunQueue,
  logger: Logger,
  options: { concurrency?: number; scope?: { runId?: string; backfillId?: string }; onRunFinished?: (run: FinishedRun) => void; isFresh?: FreshnessTest } = {},
): Worker {
  const settings = config.orchestration;
  return new Worker(config, queue, {
    concurrency: options.concurrency ?? settings.workerConcurrency ?? 2,
    heartbeatMs: toMillis(settings.heartbeat ?? '5s', 'orchestration.heartbeat'),
    lostAfterMs: toMillis(settings.lostAfter ?? '60s', 'orchestration.lostAfter'),
    logger,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.isFresh ? { isFresh: options.isFresh } : {}),
    onRunFinished: (run) => {
      options.onRunFinished?.(run);
      const posting = notifyRun(settings, config.name, run, logger).finally(() => pending.delete(posting));
      pending.add(posting);
    },
  });
}
