import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { TributaryError } from '../errors.js';

export type { Logger };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * Logs of long-running commands (serve, stream run): structured JSON lines on stderr for log shippers, readable
 * lines when stderr is a terminal. `TRIBUTARY_LOG_LEVEL` sets the level (default info; debug shows every batch).
 */
export function createLogger(name: string, options: { pretty?: boolean; level?: string } = {}): Logger {
  const wanted = options.level ?? process.env.TRIBUTARY_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(wanted)) throw new TributaryError('CONFIG_INVALID', `TRIBUTARY_LOG_LEVEL: "${wanted}" is not one of ${LEVELS.join(', ')}`);
  const level = wanted;
  const readable = options.pretty ?? Boolean(process.stderr.isTTY);
  // Synchronous in both cases: a crash never loses the lines before it.
  const destination = readable
    ? pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ fd: 2, sync: true });
  return pino({ name, level, base: { pid: process.pid } }, destination);
}
