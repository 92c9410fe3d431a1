import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { KafkaLog } from '../src/log/kafka/kafka-log.js';
import type { Log } from '../src/log/log.js';
import { keyPartition } from '../src/log/partitioner.js';
// @ts-expect-error: a plain ESM script without types (scripts/ is not compiled)
import { kafkaClasspath } from '../scripts/kafka-broker.mjs';
import { ROOT, run } from './support/helpers.js';

// Keys whose murmur2 hash has the sign bit set are where an unsigned shift (`>>> 0`) and Java's mask disagree.
const keys = [
  'France',
  'Germany',
  'United Kingdom',
  'EIRE',
  'Spain',
  'Österreich',
  'k0',
  'k1',
  'k2',
  'k3',
  'client-17850',
  '536365',
  'a',
  'b',
  'c',
  'd',
  'e',
  'f',
  'g',
  'h',
  ...Array.from({ length: 40 }, (_, i) => `key-${i}`),
];

async function javaPartitions(partitions: number): Promise<number[]> {
  const classpath = (await kafkaClasspath()) as string;
  const result = await run('java', ['-cp', classpath, path.join(ROOT, 'test/java/Murmur2Partitions.java'), String(partitions), ...keys]);
  if (result.code !== 0) throw new Error(`java failed: ${result.stderr}`);
  return result.stdout.trim().split('\n').map(Number);
}

describe("keys land on the partition Kafka's Java client chooses", () => {
  it('the partitioner equals Utils.murmur2 with the positive mask, for 7 and 12 partitions', async () => {
    for (const partitions of [7, 12]) {
      const java = await javaPartitions(partitions);
      expect(keys.map((k) => keyPartition(Buffer.from(k), partitions))).toEqual(java);
    }
  });

  it('records produced with keys on Kafka are where the Java client would put them', async () => {
    const log: Log = await KafkaLog.connect([inject('kafkaBootstrap')]);
    try {
      const topic = `partitions-${process.pid}-${Date.now() % 100000}`;
      await log.createTopic(topic, 7);
      const producer = await log.producer();
      await producer.send(keys.map((key, i) => ({ topic, key, value: String(i) })));
      await producer.close();
      const reader = await log.reader(topic, new Map(Array.from({ length: 7 }, (_, p) => [p, 0])));
      const seen = new Map<string, number>();
      for (let tries = 0; seen.size < keys.length && tries < 100; tries++) {
        for (const r of await reader.poll({ maxRecords: 1000, maxWaitMs: 200 })) seen.set(String(r.key), r.partition);
      }
      await reader.close();
      const java = await javaPartitions(7);
      expect(keys.map((k) => seen.get(k))).toEqual(java);
    } finally {
      await log.close();
    }
  });
});
