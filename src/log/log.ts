import { TributaryError } from '../errors.js';

/**
 * The log: topics of partitioned, ordered, durable records (Kafka's model). Streams read from and write to a log
 * through this interface only; an embedded adapter (files in the project) and a Kafka adapter implement it.
 * Offsets are plain numbers: 2^53 records per partition is more than any log here will hold.
 */

export type Headers = Record<string, string>;

export interface LogRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch: when the record was produced (or the time its producer gave). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

export interface ProduceRecord {
  topic: string;
  /** Default: by key hash, or round-robin when there is no key. */
  partition?: number;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  timestamp?: number;
  headers?: Headers;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still held. */
  start: number;
  /** Next offset to be written: the partition holds [start, end). */
  end: number;
}

export interface LogProducer {
  /** Resolves once every record is durably acknowledged (fsynced / acked by the broker), in order per partition. */
  send(records: readonly ProduceRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface PollOptions {
  /** Return at most this many records (default 10,000). */
  maxRecords?: number;
  /** Wait at most this long for the first record (default 100 ms); returns [] when nothing came. */
  maxWaitMs?: number;
}

/** Reads chosen partitions from chosen offsets: positions are owned by the caller (no group rebalancing). */
export interface LogReader {
  poll(options?: PollOptions): Promise<LogRecord[]>;
  /** Per partition, the next offset this reader will fetch (past records it skipped, such as Kafka transaction markers). */
  positions(): Map<number, number>;
  close(): Promise<void>;
}

export interface Log {
  readonly kind: 'embedded' | 'kafka';
  /** For messages: a folder or the bootstrap servers. */
  readonly location: string;
  /** Creates the topic if it does not exist (an existing topic keeps its partition count). */
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Partition count, or undefined when there is no such topic. */
  partitions(topic: string): Promise<number | undefined>;
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** Per partition, the first offset whose timestamp is at or after `timestamp` (the end offset when none). */
  offsetsForTime(topic: string, timestamp: number): Promise<Map<number, number>>;
  producer(): Promise<LogProducer>;
  /** A reader positioned at `positions` (partition → next offset to read). */
  reader(topic: string, positions: ReadonlyMap<number, number>): Promise<LogReader>;
  /** Consumer-group offsets, advisory: monitoring reads lag from them; streams keep their own in the catalog. */
  commitGroup(group: string, topic: string, offsets: ReadonlyMap<number, number>): Promise<void>;
  groupOffsets(group: string, topic: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}

export function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/** Topic names as Kafka allows them (also safe as folder names). */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Refuses a topic name neither log can hold ('.' and '..' are folders; '_' starts the embedded log's own). */
export function checkTopicName(topic: string): void {
  if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..' || topic.startsWith('_')) {
    throw new TributaryError('INVALID_INPUT', `topic name "${topic}": use letters, digits, '.', '_' and '-' (not starting with '_'), at most 249 characters`);
  }
}
