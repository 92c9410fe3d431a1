import { compileStream, streamTables } from '../../streams/definition.js';
import { runStream } from '../../streams/worker.js';
import type { AssetKindHandler } from './kind.js';

/** `stream:<name>`: a stream run over what its topic holds (availableNow), in the task's own lake. */
export const streamAssets: AssetKindHandler = {
  kind: 'stream',
  stopsGracefully: true,
  declare: ({ config }) =>
    Object.entries(config.streams).map(([name, stream]) => {
      const c = compileStream(name, stream, { projectDir: config.projectDir });
      return {
        key: `stream:${name}`,
        writes: streamTables(c),
        reads: [],
      };
    }),
  async execute(lake, name, { logger, signal }) {
    const report = await runStream(lake.config, name, { availableNow: true, signal, lake });
    logger.info(
      { records: report.records, batches: report.batches, emitted: report.emitted, deadLetters: report.deadLetters, late: report.late },
      `stream ${name}: ${report.records} records`,
    );
    return { rowsIn: report.records, rowsOut: report.emitted, deadLetters: report.deadLetters };
  },
};
