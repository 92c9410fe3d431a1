import type { LogLocation } from '../config/types.js';
import { EmbeddedLog } from './embedded/embedded-log.js';
import type { Log } from './log.js';

/**
 * Picks the log adapter for a location: the embedded log (files) or Apache Kafka. The Kafka client is loaded only
 * when a Kafka log is opened: it takes about 0.4 s to import, which every command would otherwise pay.
 */
export async function openLog(location: LogLocation): Promise<Log> {
  if (location.kind === 'embedded') return new EmbeddedLog(location.path);
  const { KafkaLog } = await import('./kafka/kafka-log.js');
  return KafkaLog.connect(location.brokers);
}
