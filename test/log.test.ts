import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { KafkaLog } from '../src/log/kafka/kafka-log.js';
import type { Log, LogReader, LogRecord } from '../src/log/log.js';
import { tempDir } from './support/helpers.js';

let topicCount = 0;
const topicName = (base: string) => `${base}-${process.pid}-${++topicCount}-${Date.now() % 100000}`;

async function drain(reader: LogReader, count: number, timeoutMs = 20_000): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await reader.poll({ maxRecords: count - out.length, maxWaitMs: 200 })));
  return out;
}

describe.each([
  ['embedded', () => new EmbeddedLog(tempDir('trib-log-'))],
  ['Kafka', () => KafkaLog.connect([inject('kafkaBootstrap')])],
] as const)('the %s log', (_name, open) => {
  it('keeps records per partition in order, with key, value, headers and timestamp', async () => {
    const log: Log = await open();
    try {
      const topic = topicName('order');
      await log.createTopic(topic, 3);
      await log.createTopic(topic, 5); // exists: keeps its partitions
      expect(await log.partitions(topic)).toBe(3);
      expect(await log.partitions(topicName('missing'))).toBeUndefined();
      const producer = await log.producer();
      await producer.send(
        Array.from({ length: 30 }, (_, i) => ({
          topic,
          partition: i % 3,
          key: `k${i}`,
          value: JSON.stringify({ i }),
          timestamp: 1_700_000_000_000 + i,
          headers: { n: String(i) },
        })),
      );
      await producer.send([{ topic, partition: 1, key: null, value: null }]);
      await producer.close();
      expect(await log.offsets(topic)).toEqual([
        { partition: 0, start: 0, end: 10 },
        { partition: 1, start: 0, end: 11 },
        { partition: 2, start: 0, end: 10 },
      ]);
      const reader = await log.reader(
        topic,
        new Map([
          [0, 0],
          [1, 4],
          [2, 0],
        ]),
      );
      const records = await drain(reader, 27);
      await reader.close();
      const p1 = records.filter((r) => r.partition === 1);
      expect(p1.map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9, 10]);
      expect(p1.at(-1)).toMatchObject({ key: null, value: null });
      const first = records.find((r) => r.partition === 2 && r.offset === 0)!;
      expect(first.key!.toString()).toBe('k2');
      expect(JSON.parse(first.value!.toString())).toEqual({ i: 2 });
      expect(first.headers).toEqual({ n: '2' });
      expect(first.timestamp).toBe(1_700_000_000_002);
      expect(records.filter((r) => r.partition === 0).map((r) => r.offset)).toEqual([...Array(10).keys()]);
      // By time: the first record at or after the timestamp, per partition.
      const byTime = await log.offsetsForTime(topic, 1_700_000_000_010);
      expect([...byTime.entries()].sort()).toEqual([
        [0, 4],
        [1, 3],
        [2, 3],
      ]); // i = 12, 10, 11
    } finally {
      await log.close();
    }
  });

  it('a reader sees records produced after it started, and waits without busy results in between', async () => {
    const log = await open();
    try {
      const topic = topicName('tail');
      await log.createTopic(topic, 1);
      const reader = await log.reader(topic, new Map([[0, 0]]));
      expect(await reader.poll({ maxWaitMs: 100 })).toEqual([]);
      const producer = await log.producer();
      setTimeout(() => void producer.send([{ topic, value: 'late arrival' }]), 100);
      const got = await drain(reader, 1);
      expect(got.map((r) => r.value!.toString())).toEqual(['late arrival']);
      await reader.close();
      await producer.close();
    } finally {
      await log.close();
    }
  });

  it('carries a 5 MB record, and keys spread records over partitions deterministically', async () => {
    const log = await open();
    try {
      const topic = topicName('big');
      await log.createTopic(topic, 2);
      const producer = await log.producer();
      const big = Buffer.alloc(5 * 1024 * 1024, 0x78);
      await producer.send([{ topic, partition: 0, value: big }]);
      await producer.send(Array.from({ length: 20 }, (_, i) => ({ topic, key: `key-${i % 4}`, value: String(i) })));
      await producer.close();
      const reader = await log.reader(
        topic,
        new Map([
          [0, 0],
          [1, 0],
        ]),
      );
      const records = await drain(reader, 21);
      await reader.close();
      expect(records.find((r) => r.offset === 0 && r.partition === 0)!.value!.equals(big)).toBe(true);
      const partitionOfKey = new Map<string, Set<number>>();
      for (const r of records.filter((r) => r.key)) {
        const k = r.key!.toString();
        partitionOfKey.set(k, (partitionOfKey.get(k) ?? new Set()).add(r.partition));
      }
      expect([...partitionOfKey.values()].every((s) => s.size === 1)).toBe(true);
    } finally {
      await log.close();
    }
  });

  it('stores consumer-group offsets', async () => {
    const log = await open();
    try {
      const topic = topicName('group');
      await log.createTopic(topic, 2);
      const producer = await log.producer();
      await producer.send([
        { topic, partition: 0, value: 'a' },
        { topic, partition: 0, value: 'b' },
        { topic, partition: 1, value: 'c' },
      ]);
      await producer.close();
      const group = `g-${topic}`;
      await log.commitGroup(
        group,
        topic,
        new Map([
          [0, 2],
          [1, 1],
        ]),
      );
      expect([...(await log.groupOffsets(group, topic)).entries()].sort()).toEqual([
        [0, 2],
        [1, 1],
      ]);
    } finally {
      await log.close();
    }
  });
});

describe('the embedded log on disk', () => {
  it('rolls segments, and readers follow them', async () => {
    const dir = tempDir('trib-log-');
    const log = new EmbeddedLog(dir, { segmentBytes: 4096 });
    await log.createTopic('roll', 1);
    const producer = await log.producer();
    for (let i = 0; i < 50; i++)
      await producer.send(Array.from({ length: 10 }, (_, j) => ({ topic: 'roll', value: `record ${i * 10 + j} `.padEnd(100, '.') })));
    expect(readdirSync(path.join(dir, 'roll', '0')).filter((f) => f.endsWith('.log')).length).toBeGreaterThan(10);
    const reader = await log.reader('roll', new Map([[0, 123]]));
    const records = await drain(reader, 377);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 377 }, (_, i) => 123 + i));
    expect(records[0]!.value!.toString()).toMatch(/^record 123 /);
    await reader.close();
    await log.close();
  });

  it('cuts off a record torn by a crashed writer, and readers never see it', async () => {
    const dir = tempDir('trib-log-');
    const log = new EmbeddedLog(dir);
    await log.createTopic('torn', 1);
    const producer = await log.producer();
    await producer.send([
      { topic: 'torn', value: 'one' },
      { topic: 'torn', value: 'two' },
    ]);
    const segment = path.join(dir, 'torn', '0', `${'0'.repeat(20)}.log`);
    const good = statSync(segment).size;
    appendFileSync(segment, Buffer.from([60, 0, 0, 0, 1, 2, 3])); // a header promising 60 bytes, then the crash
    const reader = await log.reader('torn', new Map([[0, 0]]));
    expect((await drain(reader, 3, 500)).map((r) => r.value!.toString())).toEqual(['one', 'two']);
    // The next writer (another process in real life) repairs the tail before appending.
    const other = new EmbeddedLog(dir);
    await (await other.producer()).send([{ topic: 'torn', value: 'three' }]);
    expect(statSync(segment).size).toBeGreaterThan(good);
    expect((await drain(reader, 1)).map((r) => [r.offset, r.value!.toString()])).toEqual([[2, 'three']]);
    expect(await other.offsets('torn')).toEqual([{ partition: 0, start: 0, end: 3 }]);
    await reader.close();
  });

  it('treats zeros left at the end of a segment by a crash as a torn tail', async () => {
    const dir = tempDir('trib-log-');
    const log = new EmbeddedLog(dir);
    await log.createTopic('zeros', 1);
    await (await log.producer()).send([{ topic: 'zeros', value: 'kept' }]);
    const segment = path.join(dir, 'zeros', '0', `${'0'.repeat(20)}.log`);
    appendFileSync(segment, Buffer.alloc(4096));
    await (await new EmbeddedLog(dir).producer()).send([{ topic: 'zeros', value: 'after' }]);
    const reader = await log.reader('zeros', new Map([[0, 0]]));
    expect((await drain(reader, 2)).map((r) => [r.offset, r.value!.toString()])).toEqual([
      [0, 'kept'],
      [1, 'after'],
    ]);
    await reader.close();
  });

  it('refuses to append after a corrupt record that has records after it, naming the file and byte', async () => {
    const dir = tempDir('trib-log-');
    const log = new EmbeddedLog(dir);
    await log.createTopic('rot', 1);
    await (await log.producer()).send([
      { topic: 'rot', value: 'first' },
      { topic: 'rot', value: 'second' },
    ]);
    const segment = path.join(dir, 'rot', '0', `${'0'.repeat(20)}.log`);
    const bytes = readFileSync(segment);
    bytes[20] = bytes[20]! ^ 0xff; // inside the first record: its checksum no longer matches
    writeFileSync(segment, bytes);
    const other = new EmbeddedLog(dir);
    await expect((await other.producer()).send([{ topic: 'rot', value: 'third' }])).rejects.toThrow(
      /rot\/0\/0{20}\.log: corrupt record at byte 0 \(checksum mismatch\) followed by more data/,
    );
    expect(readFileSync(segment).length).toBe(bytes.length); // nothing was cut off
  });

  it('serialises concurrent producers: offsets stay dense and unique', async () => {
    const dir = tempDir('trib-log-');
    const logs = [new EmbeddedLog(dir), new EmbeddedLog(dir), new EmbeddedLog(dir)];
    await logs[0]!.createTopic('busy', 1);
    await Promise.all(
      logs.map(async (log, w) => {
        const producer = await log.producer();
        for (let i = 0; i < 40; i++)
          await producer.send([
            { topic: 'busy', value: `${w}:${i}` },
            { topic: 'busy', value: `${w}:${i}b` },
          ]);
      }),
    );
    const reader = await logs[0]!.reader('busy', new Map([[0, 0]]));
    const records = await drain(reader, 240);
    expect(records.map((r) => r.offset)).toEqual([...Array(240).keys()]);
    expect(new Set(records.map((r) => r.value!.toString())).size).toBe(240);
    await reader.close();
  });

  it('refuses bad topic names and unknown topics with a clear message', async () => {
    const log = new EmbeddedLog(tempDir('trib-log-'));
    await expect(log.createTopic('../escape', 1)).rejects.toThrow(`topic name "../escape"`);
    await expect((await log.producer()).send([{ topic: 'nope', value: 'x' }])).rejects.toThrow('topic nope does not exist in the embedded log');
    await log.createTopic('two', 2);
    await expect((await log.producer()).send([{ topic: 'two', partition: 2, value: 'x' }])).rejects.toThrow(
      'topic two has 2 partition(s); there is no partition 2',
    );
  });
});
