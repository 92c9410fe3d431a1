import { z } from 'zod';
import { TributaryError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** A duration in a config: milliseconds, or a string like '500ms', '30s', '1m', '2h', '1d'. */
export const durationSchema = z.union([z.number().nonnegative(), z.string().regex(PATTERN, "expected a duration like '30s', '1m', '500ms'")]);

/** A duration: milliseconds, or a string like '500ms', '30s', '1m', '2h', '1d'. */
export type Duration = z.infer<typeof durationSchema>;

/** Milliseconds of a duration written as a number (ms) or '500ms', '30s', '1m', '2h', '1d'. */
export function toMillis(value: Duration, where: string): number {
  if (typeof value === 'number') return value;
  const match = PATTERN.exec(value.trim());
  if (!match) throw new TributaryError('CONFIG_INVALID', `${where}: "${value}" is not a duration like '30s', '1m' or '500ms'`);
  return Math.round(Number(match[1]) * UNITS[match[2]!]!);
}
