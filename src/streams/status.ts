import type { ResolvedConfig } from '../config/types.js';
import { Lake } from '../lake/lake.js';
import type { Log } from '../log/log.js';
import { openLog } from '../log/open.js';
import { compileStream } from './definition.js';

export interface PartitionStatus {
  partition: number;
  /** Next offset the stream will read (its committed position). */
  offset: number;
  /** Next offset to be written to the log. */
  end: number;
  lag: number;
}

export interface StreamStatus {
  stream: string;
  topic: string;
  /** False when the topic does not exist yet. */
  topicExists: boolean;
  watermark: Date | undefined;
  lastCommit: Date | undefined;
  batches: number;
  partitions: PartitionStatus[];
  lag: number;
}

/** Where each declared stream stands: per partition its committed offset and lag, its watermark and last commit. */
export async function streamStatus(config: ResolvedConfig, options: { log?: Log; lake?: Lake } = {}): Promise<StreamStatus[]> {
  const log = options.log ?? (await openLog(config.log));
  const lake = options.lake ?? (await Lake.open(config));
  try {
    const out: StreamStatus[] = [];
    for (const [name, definition] of Object.entries(config.streams)) {
      const stream = compileStream(name, definition, { projectDir: config.projectDir });
      const checkpoint = await lake.catalog.streams.checkpoint(name, 'live');
      const exists = (await log.partitions(stream.topic)) !== undefined;
      const offsets = exists ? await log.offsets(stream.topic) : [];
      const partitions = offsets.map((o) => {
        const offset = checkpoint?.offsets[String(o.partition)] ?? o.start;
        return { partition: o.partition, offset, end: o.end, lag: Math.max(0, o.end - offset) };
      });
      out.push({
        stream: name,
        topic: stream.topic,
        topicExists: exists,
        watermark: checkpoint?.watermark,
        lastCommit: checkpoint?.committedAt,
        batches: checkpoint?.seq ?? 0,
        partitions,
        lag: partitions.reduce((n, p) => n + p.lag, 0),
      });
    }
    return out;
  } finally {
    if (!options.log) await log.close().catch(() => undefined);
    if (!options.lake) await lake.close();
  }
}
