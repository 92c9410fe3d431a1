import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { KafkaLog } from '../src/log/kafka/kafka-log.js';
import { runStream } from '../src/streams/worker.js';
// @ts-expect-error: a plain ESM script without types (scripts/ is not compiled)
import { kafkaClasspath } from '../scripts/kafka-broker.mjs';
import { ROOT, run, tempDir } from './support/helpers.js';
import { copyProjectFiles } from '../src/util/copy-project.js';

/** Kafka's own kafka-consumer-groups tool (the class behind bin/kafka-consumer-groups.sh). */
async function consumerGroups(...args: string[]): Promise<string> {
  const classpath = (await kafkaClasspath()) as string;
  const result = await run('java', [
    '-cp',
    classpath,
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    '--bootstrap-server',
    inject('kafkaBootstrap'),
    ...args,
  ]);
  if (result.code !== 0) throw new Error(`kafka-consumer-groups ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

describe("a stream's position, seen and moved with Kafka's tools", () => {
  it('shows in kafka-consumer-groups; a --reset-offsets is refused by name, then ignored or adopted on request', async () => {
    const dir = path.join(tempDir('trib-reset-'), 'ventes-live');
    copyProjectFiles(path.join(ROOT, 'examples/ventes-live'), dir);
    const config = await loadConfig(dir);
    config.log = { kind: 'kafka', brokers: [inject('kafkaBootstrap')] };
    const topic = `reset-${process.pid}-${Date.now() % 100000}`;
    config.streams['ventes-live'] = { ...config.streams['ventes-live']!, topic, dlq: { topic: false } };
    const group = 'tributary.ventes-live';
    const log = await KafkaLog.connect(config.log.brokers);
    try {
      await log.createTopic(topic, 1);
      const t = Date.now() - 600_000;
      const sales = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          topic,
          value: JSON.stringify({
            id: `s${from + i}`,
            event_time: new Date(t + (from + i) * 1000).toISOString(),
            pays: 'France',
            produit: 'Laptop',
            montant: 10,
            quantite: 1,
          }),
        }));
      const producer = await log.producer();
      await producer.send(sales(0, 100));
      expect((await runStream(config, 'ventes-live', { availableNow: true, log })).records).toBe(100);

      // An operator sees the stream's position and lag with Kafka's tool.
      const described = await consumerGroups('--describe', '--group', group);
      expect(described).toMatch(new RegExp(`${group}\\s+${topic}\\s+0\\s+100\\s+100\\s+0`));

      // They move it back: the next run refuses to start, saying what happened, instead of silently overwriting it.
      await consumerGroups('--group', group, '--topic', topic, '--reset-offsets', '--to-earliest', '--execute');
      await expect(runStream(config, 'ventes-live', { availableNow: true, log })).rejects.toThrow(
        `stream ventes-live: its consumer group ${group} was moved by someone else (partition 0: group at 0, stream at 100)`,
      );

      // --ignore-group-offsets: the catalog's position wins, and the group is brought back to it.
      await producer.send(sales(100, 10));
      expect((await runStream(config, 'ventes-live', { availableNow: true, log, movedGroup: 'ignore' })).records).toBe(10);
      expect(await log.groupOffsets(group, topic)).toEqual(new Map([[0, 110]]));

      // --from-group-offsets: the stream starts where the group says, with fresh windows.
      await consumerGroups('--group', group, '--topic', topic, '--reset-offsets', '--to-offset', '50', '--execute');
      const adopted = await runStream(config, 'ventes-live', { availableNow: true, log, movedGroup: 'adopt' });
      expect(adopted.records).toBe(60);
      expect(await log.groupOffsets(group, topic)).toEqual(new Map([[0, 110]]));
      // And from then on, the group and the stream agree again.
      await producer.send(sales(110, 5));
      expect((await runStream(config, 'ventes-live', { availableNow: true, log })).records).toBe(5);
      await producer.close();
    } finally {
      await log.close();
    }
  });
});
