import { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { errorMessage } from '../../errors.js';
import { Lake } from '../../lake/lake.js';
import { flushNotifications, projectWorker } from '../../orchestration/notify.js';
import { Orchestration } from '../../orchestration/orchestration.js';
import { Scheduler, scheduleInfo } from '../../orchestration/scheduler.js';
import { buildServer } from '../../serve/server.js';
import { runStream } from '../../streams/worker.js';
import { createLogger } from '../../util/logger.js';
import { globals, print, projectDir, stopOnSignals } from '../context.js';
import { nonNegativeInt } from '../options.js';
import { freshnessCheck } from '../../orchestration/freshness.js';

export function devCommand(): Command {
  return new Command('dev')
    .description('the whole project in one process: scheduler, sensors, automation, a worker, streams, API and dashboard (Ctrl-C stops it cleanly)')
    .option('--port <port>', 'port (default: serve.port, else 8080)')
    .option('--host <host>', 'address to bind (default: serve.host, else 127.0.0.1)')
    .option('--no-streams', 'do not run the declared streams')
    .action(async (opts: { port?: string; host?: string; streams: boolean }, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const logger = createLogger('dev');
      const lake = await Lake.open(config);
      const orch = await Orchestration.open(lake);
      const freshness = await freshnessCheck(lake);
      const worker = projectWorker(config, orch.queue, logger, { isFresh: freshness.isFresh });
      const scheduler = new Scheduler(orch, { logger, onRun: () => worker.wake() });
      const { app } = await buildServer(lake, { logger, orchestration: orch });
      const port = opts.port !== undefined ? nonNegativeInt(opts.port, '--port') : (config.serve.port ?? 8080);
      const address = await app.listen({ port, host: opts.host ?? config.serve.host ?? '127.0.0.1' });
      const stop = stopOnSignals();

      // Streams run until Ctrl-C; one that fails is logged and started again (from its checkpoint) 5 s later.
      const streams = opts.streams ? Object.keys(config.streams) : [];
      const streaming = streams.map(async (name) => {
        while (!stop.signal.aborted) {
          try {
            await runStream(config, name, { signal: stop.signal });
          } catch (err) {
            logger.error({ stream: name, err: errorMessage(err) }, `stream ${name} failed; restarting in 5 s`);
            await new Promise((resolve) => setTimeout(resolve, 5000));
          }
        }
      });
      worker.start();
      scheduler.start();

      const next = (await scheduleInfo(orch)).filter((s) => s.next).sort((a, b) => a.next!.getTime() - b.next!.getTime())[0];
      const summary = {
        listening: address,
        jobs: orch.jobs.size,
        sensors: Object.keys(config.sensors).length,
        automated: orch.automated,
        streams,
        nextSchedule: next ? { job: next.job, at: next.next!.toISOString() } : null,
      };
      print(
        globals(cmd).json
          ? JSON.stringify(summary)
          : [
              `tributary dev: ${config.name} at ${address}  (dashboard /, API /api/v1, docs /docs, metrics /metrics)`,
              `  ${orch.jobs.size} job(s)${next ? `, next: ${next.job} at ${next.next!.toISOString()}` : ''} · ${summary.sensors} sensor(s) · automation: ${orch.automated.join(', ') || 'none'} · streams: ${streams.join(', ') || 'none'}`,
              '  Ctrl-C stops: running tasks get 10 s to finish (or go back to the queue), streams commit their batch.',
            ].join('\n'),
      );

      await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      logger.info('stopping');
      await scheduler.stop();
      await Promise.all([worker.stop(10_000), ...streaming]);
      freshness.close();
      await app.close();
      await flushNotifications();
      stop.dispose();
      await lake.close();
      logger.info('stopped');
    });
}
