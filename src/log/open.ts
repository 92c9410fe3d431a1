import type { LogLocation } from '../config/types.js';
import { EmbeddedLog } from './embedded/embedded-log.js';
import { KafkaLog } from './kafka/kafka-log.js';
import type { Log } from './log.js';

/** Picks the log adapter for a location: the embedded log (files) or Apache Kafka. */
export async function openLog(location: LogLocation): Promise<Log> {
  if (location.kind === 'embedded') return new EmbeddedLog(location.path);
  return KafkaLog.connect(location.brokers);
}
