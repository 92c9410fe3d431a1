import { murmur2 } from '@platformatic/kafka';

/**
 * The partition of a keyed record, as Kafka's Java client and librdkafka's `murmur2_random` choose it:
 * `toPositive(murmur2(key)) % partitions`, where toPositive masks the sign bit (`& 0x7fffffff`). Records with the
 * same key land on the same partition whichever client produced them, on Kafka and on the embedded log alike.
 */
export function keyPartition(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
