import { Admin, FetchIsolationLevels, ListOffsetTimestamps, Producer } from '@platformatic/kafka';
import { keyPartition } from '../partitioner.js';
import { TributaryError, errorMessage } from '../../errors.js';
import { TOPIC_NAME, checkTopicName, toBuffer, type Log, type LogProducer, type LogReader, type PartitionOffsets, type ProduceRecord } from '../log.js';
import { KafkaReader } from './kafka-reader.js';
import { alreadyExists, describe, kafkaError } from './errors.js';

/**
 * Apache Kafka through @platformatic/kafka, a maintained pure-TypeScript client. Positions are the caller's:
 * readers fetch from the offsets they are given, without joining a consumer group (no rebalancing can move a
 * partition away); streams keep their offsets in the catalog and publish them to a group only for monitoring.
 */
export class KafkaLog implements Log {
  readonly kind = 'kafka' as const;
  readonly location: string;

  private constructor(
    private readonly brokers: string[],
    private readonly admin: Admin,
  ) {
    this.location = brokers.join(',');
  }

  static async connect(brokers: string[]): Promise<KafkaLog> {
    const admin = new Admin({ clientId: 'tributary-admin', bootstrapBrokers: brokers, retries: 3, timeout: 10_000 });
    try {
      await admin.metadata({ topics: [] });
    } catch (err) {
      await admin.close().catch(() => undefined);
      throw new TributaryError('IO_ERROR', `Kafka at ${brokers.join(',')} is unreachable: ${errorMessage(err)}`, {
        hint: 'is the broker running? see docs/kafka.md',
        cause: err,
      });
    }
    return new KafkaLog(brokers, admin);
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    checkTopicName(topic);
    try {
      await this.admin.createTopics({ topics: [topic], partitions, replicas: -1 });
    } catch (err) {
      if (!alreadyExists(err)) throw kafkaError(`creating topic ${topic}`, err);
    }
  }

  async partitions(topic: string): Promise<number | undefined> {
    if (!TOPIC_NAME.test(topic)) return undefined;
    try {
      const metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true });
      return metadata.topics.get(topic)?.partitionsCount;
    } catch (err) {
      if (/UNKNOWN_TOPIC_OR_PARTITION|does not exist|Unknown topic/i.test(describe(err))) return undefined;
      throw kafkaError(`reading metadata of ${topic}`, err);
    }
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    const count = await this.requirePartitions(topic);
    const [start, end] = await Promise.all([
      this.listOffsets(topic, count, ListOffsetTimestamps.EARLIEST),
      this.listOffsets(topic, count, ListOffsetTimestamps.LATEST),
    ]);
    return Array.from({ length: count }, (_, partition) => ({ partition, start: start.get(partition) ?? 0, end: end.get(partition) ?? 0 }));
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<Map<number, number>> {
    const count = await this.requirePartitions(topic);
    const found = await this.listOffsets(topic, count, BigInt(timestamp));
    const ends = await this.listOffsets(topic, count, ListOffsetTimestamps.LATEST);
    // Kafka answers -1 when no record is that recent: the end of the partition.
    return new Map(Array.from({ length: count }, (_, p) => [p, (found.get(p) ?? -1) < 0 ? ends.get(p)! : found.get(p)!]));
  }

  async producer(): Promise<LogProducer> {
    // Idempotent: the broker drops duplicates of a retried batch, so retries never double a record (acks = all).
    const producer = new Producer({ clientId: 'tributary-producer', bootstrapBrokers: this.brokers, idempotent: true, retries: 5, timeout: 30_000 });
    const counts = new Map<string, number>();
    // One send at a time: the idempotent producer's sequence numbers only advance on a response, and concurrent
    // sends to one partition would be taken for duplicates of each other (and dropped).
    let queue: Promise<unknown> = Promise.resolve();
    const send = async (records: readonly ProduceRecord[]) => {
      if (records.length === 0) return;
      const partitions = new Map<ProduceRecord, number>();
      for (const r of records) {
        const key = r.key === undefined || r.key === null ? undefined : toBuffer(r.key);
        if (r.partition === undefined && !key?.length) continue; // keyless: the client spreads them
        let count = counts.get(r.topic);
        if (count === undefined) counts.set(r.topic, (count = await this.requirePartitions(r.topic)));
        // Keyed: the Java client's partition (its client's default, `murmur2 >>> 0`, differs for half the keys).
        if (r.partition === undefined) {
          partitions.set(r, keyPartition(key!, count));
          continue;
        }
        // The client would silently wrap an out-of-range partition onto another one.
        if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= count) {
          throw new TributaryError('INVALID_INPUT', `topic ${r.topic} has ${count} partition(s); there is no partition ${r.partition}`);
        }
      }
      try {
        await producer.send({
          messages: records.map((r) => ({
            topic: r.topic,
            ...(r.partition !== undefined ? { partition: r.partition } : partitions.has(r) ? { partition: partitions.get(r)! } : {}),
            ...(r.key !== undefined && r.key !== null ? { key: toBuffer(r.key)! } : {}),
            value: toBuffer(r.value) ?? Buffer.alloc(0),
            ...(r.timestamp !== undefined ? { timestamp: BigInt(Math.trunc(r.timestamp)) } : {}),
            ...(r.headers ? { headers: new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) } : {}),
          })),
        });
      } catch (err) {
        throw kafkaError(`publishing ${records.length} record(s) to ${records[0]!.topic}`, err);
      }
    };
    return {
      send: (records: readonly ProduceRecord[]) => {
        const run = queue.catch(() => undefined).then(() => send(records));
        queue = run;
        return run;
      },
      close: async () => {
        await queue.catch(() => undefined);
        await producer.close();
      },
    };
  }

  async reader(topic: string, positions: ReadonlyMap<number, number>): Promise<LogReader> {
    const count = await this.requirePartitions(topic);
    for (const p of positions.keys()) {
      if (p >= count) throw new TributaryError('INVALID_INPUT', `topic ${topic} has ${count} partition(s); there is no partition ${p}`);
    }
    return KafkaReader.open(this.brokers, topic, positions);
  }

  async commitGroup(group: string, topic: string, offsets: ReadonlyMap<number, number>): Promise<void> {
    await this.admin.alterConsumerGroupOffsets({
      groupId: group,
      topics: [{ name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }],
    });
  }

  async groupOffsets(group: string, topic: string): Promise<Map<number, number>> {
    const [result] = await this.admin.listConsumerGroupOffsets({ groups: [group] });
    const t = result?.topics.find((x) => x.name === topic);
    return new Map((t?.partitions ?? []).filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, Number(p.committedOffset)]));
  }

  async close(): Promise<void> {
    await this.admin.close();
  }

  private async requirePartitions(topic: string): Promise<number> {
    const count = await this.partitions(topic);
    if (count === undefined) {
      throw new TributaryError('NOT_FOUND', `topic ${topic} does not exist on Kafka at ${this.location}`, {
        hint: '`tributary produce` and `tributary stream run` create topics; or check the topic name',
      });
    }
    return count;
  }

  private async listOffsets(topic: string, count: number, timestamp: bigint): Promise<Map<number, number>> {
    const result = await this.admin.listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })) }],
      // The end readers can reach: an open transaction of another producer is not readable yet.
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
    return new Map((result[0]?.partitions ?? []).map((p) => [p.partitionIndex, Number(p.offset)]));
  }
}
