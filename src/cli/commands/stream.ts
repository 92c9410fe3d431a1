import { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { TributaryError } from '../../errors.js';
import { replayStream } from '../../streams/replay.js';
import { streamStatus } from '../../streams/status.js';
import { runStream, type BatchReport } from '../../streams/worker.js';
import { emit, projectDir, stopOnSignals } from '../context.js';
import { Progress, renderTable } from '../output.js';
import { createLogger } from '../../util/logger.js';

export function streamCommand(): Command {
  const stream = new Command('stream').description('run, replay and inspect streams (event-time windows into the lake, exactly once)');

  stream
    .command('run')
    .description('run a stream until Ctrl-C (each batch is committed with its offsets: stopping or crashing loses nothing)')
    .argument('<stream>', 'stream name, as declared in streams')
    .option('--available-now', 'process what the topic holds now, then exit')
    .option('--ignore-group-offsets', "the stream's consumer group was moved (e.g. --reset-offsets): continue from the catalog's checkpoint anyway")
    .option('--from-group-offsets', "the stream's consumer group was moved: start from the group's offsets, with fresh window state")
    .action(async (name: string, opts: { availableNow?: boolean; ignoreGroupOffsets?: boolean; fromGroupOffsets?: boolean }, cmd: Command) => {
      if (opts.ignoreGroupOffsets && opts.fromGroupOffsets)
        throw new TributaryError('INVALID_INPUT', 'stream run: --ignore-group-offsets and --from-group-offsets exclude each other');
      const movedGroup = opts.fromGroupOffsets ? 'adopt' : opts.ignoreGroupOffsets ? 'ignore' : 'refuse';
      const config = await loadConfig(projectDir(cmd), { required: true });
      const controller = stopOnSignals();
      const progress = new Progress(true);
      // A terminal gets a live progress line; otherwise structured logs: every batch at debug, and a line every
      // 10 s whether batches come or not (a stream that stopped moving is when the line matters).
      const logger = process.stderr.isTTY ? undefined : createLogger('stream');
      let last: Record<string, unknown> = { stream: name, batch: 0 };
      const onBatch = (b: BatchReport) => {
        progress.update(
          `${name}: batch ${b.batch} · ${b.records} records · ${b.emitted} windows · ${b.deadLetters} dead · ${b.late} late · lag ${b.lag ?? '?'} · watermark ${b.watermark === null ? '-' : new Date(b.watermark).toISOString()}`,
        );
        last = { stream: name, ...b, watermark: b.watermark === null ? null : new Date(b.watermark).toISOString() };
        logger?.debug(last, 'batch committed');
      };
      const ticker = logger ? setInterval(() => logger.info(last, 'stream progress'), 10_000) : undefined;
      ticker?.unref();
      try {
        const report = await runStream(config, name, { availableNow: Boolean(opts.availableNow), signal: controller.signal, onBatch, movedGroup });
        progress.done();
        emit(
          cmd,
          report,
          () =>
            `${name}: ${report.records} records in ${report.batches} batches · ${report.emitted} windows emitted · ${report.deadLetters} to the dead-letter queue · ${report.late} late · watermark ${report.watermark === null ? '-' : new Date(report.watermark).toISOString()}`,
        );
      } finally {
        if (ticker) clearInterval(ticker);
        logger?.info(last, 'stream stopped');
        controller.dispose();
      }
    });

  stream
    .command('replay')
    .description("reprocess the topic's history with fresh state into a new snapshot of the outputs (the live stream keeps running)")
    .argument('<stream>', 'stream name')
    .requiredOption('--from <earliest|time>', "'earliest', or an ISO-8601 time: records logged from then on")
    .action(async (name: string, opts: { from: string }, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const from = opts.from === 'earliest' ? 'earliest' : new Date(opts.from);
      if (from !== 'earliest' && Number.isNaN(from.getTime()))
        throw new TributaryError('INVALID_INPUT', `--from: "${opts.from}" is neither 'earliest' nor an ISO-8601 time`);
      const progress = new Progress(true);
      const report = await replayStream(config, name, { from, onProgress: (read, total) => progress.update(`${name}: replayed ${read} / ${total} records`) });
      progress.done();
      emit(cmd, report, () =>
        [
          `${name}: replayed ${report.records} records from ${report.from}`,
          renderTable(
            ['table', 'windows', 'replaced', 'snapshot'],
            report.tables.map((t) => ({ table: t.table, windows: t.windows, replaced: t.replaced, snapshot: t.snapshotId })),
          ),
        ].join('\n'),
      );
    });

  stream
    .command('status')
    .description('per stream and partition: committed offset, lag, watermark, last commit')
    .action(async (_opts: unknown, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const statuses = await streamStatus(config);
      emit(cmd, statuses, () =>
        statuses.length === 0
          ? 'no streams declared'
          : renderTable(
              ['stream', 'topic', 'partition', 'offset', 'end', 'lag', 'watermark', 'last_commit', 'batches'],
              statuses.flatMap((s) =>
                (s.partitions.length ? s.partitions : [undefined]).map((p) => ({
                  stream: s.stream,
                  topic: s.topicExists ? s.topic : `${s.topic} (not created yet)`,
                  partition: p?.partition ?? '',
                  offset: p?.offset ?? '',
                  end: p?.end ?? '',
                  lag: p?.lag ?? '',
                  watermark: s.watermark?.toISOString() ?? '',
                  last_commit: s.lastCommit?.toISOString() ?? '',
                  batches: s.batches,
                })),
              ),
            ),
      );
    });
  return stream;
}
