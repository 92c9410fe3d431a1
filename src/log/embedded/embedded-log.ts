import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { TributaryError } from '../../errors.js';
import {
  TOPIC_NAME,
  checkTopicName,
  toBuffer,
  type Log,
  type LogProducer,
  type LogReader,
  type LogRecord,
  type PartitionOffsets,
  type PollOptions,
  type ProduceRecord,
} from '../log.js';
import { withFileLock } from './file-lock.js';
import { MAX_RECORD_BYTES, encodeFrame } from './frame.js';
import { SegmentCursor, listSegments, segmentName } from './partition-files.js';

export interface EmbeddedLogOptions {
  /** A partition's current segment file is closed and a new one started beyond this size (default 64 MB). */
  segmentBytes?: number;
  /** fsync every append before acknowledging it (default true). */
  fsync?: boolean;
}

/**
 * The embedded log: Kafka's model in plain files, for one machine and no server.
 * `<dir>/<topic>/topic.json` holds the partition count; `<dir>/<topic>/<p>/<base offset>.log` are append-only
 * segments of checksummed records. Any number of processes may produce and read at once: appends to a partition
 * are serialised by a lock file, and readers only ever see complete records.
 */
export class EmbeddedLog implements Log {
  readonly kind = 'embedded' as const;
  private readonly tails = new Map<string, SegmentCursor>();
  private readonly segmentBytes: number;
  private readonly fsync: boolean;

  constructor(
    readonly location: string,
    options: EmbeddedLogOptions = {},
  ) {
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.fsync = options.fsync ?? true;
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    checkTopicName(topic);
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new TributaryError('INVALID_INPUT', `topic ${topic}: partitions must be a positive integer, got ${partitions}`);
    const dir = path.join(this.location, topic);
    mkdirSync(dir, { recursive: true });
    // Written aside then linked into place: readers never see a half-written file, and the first creator wins.
    const tmp = path.join(dir, `.topic.${process.pid}.${Date.now()}.tmp`);
    writeFileSync(tmp, JSON.stringify({ partitions, createdAt: new Date().toISOString() }));
    try {
      linkSync(tmp, path.join(dir, 'topic.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }

  async partitions(topic: string): Promise<number | undefined> {
    const file = path.join(this.location, topic, 'topic.json');
    if (!TOPIC_NAME.test(topic) || !existsSync(file)) return undefined;
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { partitions: number }).partitions;
    } catch (err) {
      throw new TributaryError('IO_ERROR', `${file}: unreadable topic description: ${(err as Error).message}`);
    }
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    const count = await this.requirePartitions(topic);
    return Array.from({ length: count }, (_, partition) => {
      const first = listSegments(this.partitionDir(topic, partition))[0];
      return { partition, start: first?.base ?? 0, end: this.tail(topic, partition).nextOffset };
    });
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<Map<number, number>> {
    const count = await this.requirePartitions(topic);
    const result = new Map<number, number>();
    for (let partition = 0; partition < count; partition++) {
      const cursor = SegmentCursor.seek(this.partitionDir(topic, partition), 0);
      let found: number | undefined;
      try {
        for (;;) {
          const { frames } = cursor.read(10_000);
          if (frames.length === 0) break;
          const hit = frames.find((f) => f.timestamp >= timestamp);
          if (hit) {
            found = hit.offset;
            break;
          }
        }
      } finally {
        cursor.close();
      }
      result.set(partition, found ?? cursor.nextOffset);
    }
    return result;
  }

  async producer(): Promise<LogProducer> {
    let roundRobin = 0;
    const counts = new Map<string, number>();
    return {
      send: async (records: readonly ProduceRecord[]) => {
        const byPartition = new Map<string, { topic: string; partition: number; records: ProduceRecord[] }>();
        for (const record of records) {
          let count = counts.get(record.topic);
          if (count === undefined) {
            count = await this.requirePartitions(record.topic);
            counts.set(record.topic, count);
          }
          const key = toBuffer(record.key);
          const partition = record.partition ?? (key ? crc32(key) % count : roundRobin++ % count);
          if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
            throw new TributaryError('INVALID_INPUT', `topic ${record.topic} has ${count} partition(s); there is no partition ${partition}`);
          }
          const id = `${record.topic}/${partition}`;
          let group = byPartition.get(id);
          if (!group) byPartition.set(id, (group = { topic: record.topic, partition, records: [] }));
          group.records.push(record);
        }
        for (const group of byPartition.values()) await this.append(group.topic, group.partition, group.records);
      },
      close: async () => undefined,
    };
  }

  async reader(topic: string, positions: ReadonlyMap<number, number>): Promise<LogReader> {
    const count = await this.requirePartitions(topic);
    const cursors: { partition: number; cursor: SegmentCursor }[] = [];
    for (const [partition, offset] of positions) {
      if (partition >= count) throw new TributaryError('INVALID_INPUT', `topic ${topic} has ${count} partition(s); there is no partition ${partition}`);
      cursors.push({ partition, cursor: SegmentCursor.seek(this.partitionDir(topic, partition), offset) });
    }
    let next = 0;
    return {
      poll: async (options: PollOptions = {}) => {
        const max = options.maxRecords ?? 10_000;
        const deadline = Date.now() + (options.maxWaitMs ?? 100);
        for (;;) {
          const out: LogRecord[] = [];
          // Round-robin with a fair share each, so a busy partition cannot starve the others.
          const share = Math.max(1, Math.ceil(max / Math.max(1, cursors.length)));
          for (let i = 0; i < cursors.length && out.length < max; i++) {
            const { partition, cursor } = cursors[(next + i) % cursors.length]!;
            for (const f of cursor.read(Math.min(share, max - out.length)).frames) {
              out.push({ topic, partition, offset: f.offset, timestamp: f.timestamp, key: f.key, value: f.value, headers: f.headers });
            }
          }
          next++;
          if (out.length > 0 || Date.now() >= deadline) return out;
          await sleep(5);
        }
      },
      positions: () => new Map(cursors.map(({ partition, cursor }) => [partition, cursor.nextOffset])),
      close: async () => {
        for (const { cursor } of cursors) cursor.close();
      },
    };
  }

  async commitGroup(group: string, topic: string, offsets: ReadonlyMap<number, number>): Promise<void> {
    const file = this.groupFile(group, topic);
    mkdirSync(path.dirname(file), { recursive: true });
    const merged = { ...this.readGroup(file), ...Object.fromEntries(offsets) };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(merged));
    renameSync(tmp, file);
  }

  async groupOffsets(group: string, topic: string): Promise<Map<number, number>> {
    return new Map(Object.entries(this.readGroup(this.groupFile(group, topic))).map(([p, o]) => [Number(p), o]));
  }

  async close(): Promise<void> {
    for (const cursor of this.tails.values()) cursor.close();
    this.tails.clear();
  }

  // ---------------------------------------------------------------- internals

  private async append(topic: string, partition: number, records: readonly ProduceRecord[]): Promise<void> {
    const dir = this.partitionDir(topic, partition);
    mkdirSync(dir, { recursive: true });
    await withFileLock(`${dir}.lock`, () => {
      const tail = this.tail(topic, partition, { repair: true });
      const now = Date.now();
      const frames = records.map((r, i) =>
        encodeFrame({ offset: tail.nextOffset + i, timestamp: r.timestamp ?? now, key: toBuffer(r.key), value: toBuffer(r.value), headers: r.headers ?? {} }),
      );
      const tooLarge = frames.findIndex((f) => f.length - 4 > MAX_RECORD_BYTES);
      if (tooLarge >= 0)
        throw new TributaryError(
          'INVALID_INPUT',
          `topic ${topic}: a record of ${frames[tooLarge]!.length} bytes is larger than the embedded log's ${MAX_RECORD_BYTES} bytes`,
        );
      const bytes = Buffer.concat(frames);
      let file = tail.file;
      if (tail.position > 0 && tail.position + bytes.length > this.segmentBytes) {
        file = path.join(dir, segmentName(tail.nextOffset)); // roll: readers move on once this file exists
      }
      const fd = openSync(file, 'a');
      try {
        // Readers stop at an incomplete record, so they never see a partial append.
        for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
        if (this.fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (file !== tail.file) {
        tail.close();
        this.tails.set(`${topic}/${partition}`, new SegmentCursor(dir, file, bytes.length, tail.nextOffset + records.length));
      } else {
        tail.position += bytes.length;
        tail.nextOffset += records.length;
      }
    });
  }

  /** This process's view of the end of a partition, caught up with what other processes appended since. */
  private tail(topic: string, partition: number, options: { repair?: boolean } = {}): SegmentCursor {
    const id = `${topic}/${partition}`;
    const dir = this.partitionDir(topic, partition);
    let cursor = this.tails.get(id);
    if (!cursor) {
      const last = listSegments(dir).at(-1);
      cursor = new SegmentCursor(dir, last?.file ?? path.join(dir, segmentName(0)), 0, last?.base ?? 0);
      this.tails.set(id, cursor);
    }
    for (;;) {
      const { frames, torn } = cursor.read(100_000, { failOnCorruption: options.repair });
      if (torn && options.repair) {
        // We hold the partition's lock, so nobody is writing: this is a record torn by a crashed writer.
        cursor.close();
        truncateSync(cursor.file, cursor.position);
        break;
      }
      if (frames.length === 0) break;
    }
    return cursor;
  }

  private async requirePartitions(topic: string): Promise<number> {
    const count = await this.partitions(topic);
    if (count === undefined) {
      checkTopicName(topic);
      throw new TributaryError('NOT_FOUND', `topic ${topic} does not exist in the embedded log ${this.location}`, {
        hint: '`tributary produce` and `tributary stream run` create topics; or check the topic name',
      });
    }
    return count;
  }

  private partitionDir(topic: string, partition: number): string {
    return path.join(this.location, topic, String(partition));
  }

  private groupFile(group: string, topic: string): string {
    if (!TOPIC_NAME.test(group)) throw new TributaryError('INVALID_INPUT', `consumer group "${group}": use letters, digits, '.', '_' and '-'`);
    return path.join(this.location, '_groups', group, `${topic}.json`);
  }

  private readGroup(file: string): Record<string, number> {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) : {};
  }
}
