import { Command } from 'commander';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { TributaryError } from '../../errors.js';
import { listDeadLetters, replayDeadLetters } from '../../streams/dead-letters.js';
import { emit, projectDir } from '../context.js';
import { renderTable } from '../output.js';

export function dlqCommand(): Command {
  const dlq = new Command('dlq').description("a stream's dead-letter queue: records it could not read, kept with the reason");

  dlq
    .command('ls')
    .description('list dead letters (--json prints payloads, ready to edit for `dlq replay --file`)')
    .argument('<stream>', 'stream name')
    .option('--pending', 'only those not replayed yet')
    .action(async (name: string, opts: { pending?: boolean }, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const entries = await listDeadLetters(config, name, { pending: Boolean(opts.pending) });
      emit(
        cmd,
        entries.map((e) => ({ ...e, payload: e.payloadText })),
        () =>
          entries.length === 0
            ? `${name}: no dead letters`
            : renderTable(
                ['partition', 'offset', 'error_code', 'error', 'bytes', 'payload', 'failed_at', 'replayed_at'],
                entries.map((e) => ({
                  partition: e.partition,
                  offset: e.offset,
                  error_code: e.errorCode,
                  error: e.error,
                  bytes: e.bytes,
                  payload: e.payloadText ?? '(binary or large)',
                  failed_at: e.failedAt,
                  replayed_at: e.replayedAt ?? '',
                })),
                50,
              ),
      );
    });

  dlq
    .command('replay')
    .description('re-inject dead letters into the source topic: as they were (after fixing the definition), or corrected from a file')
    .argument('<stream>', 'stream name')
    .option('--file <ndjson>', 'corrected payloads: lines of {"partition", "offset", "payload"}')
    .option('--only <p:o...>', 'only these dead letters, as partition:offset')
    .action(async (name: string, opts: { file?: string; only?: string[] }, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const only = opts.only?.map((s) => {
        const m = /^(\d+):(\d+)$/.exec(s);
        if (!m) throw new TributaryError('INVALID_INPUT', `--only: "${s}" is not partition:offset`);
        return { partition: Number(m[1]), offset: Number(m[2]) };
      });
      const report = await replayDeadLetters(config, name, { ...(opts.file ? { file: path.resolve(opts.file) } : {}), ...(only ? { only } : {}) });
      emit(
        cmd,
        report,
        () =>
          `${name}: ${report.replayed} dead letters re-injected into ${report.topic} (${report.edited} corrected)${report.skipped ? ` · ${report.skipped} already replayed, skipped` : ''}`,
      );
    });
  return dlq;
}
