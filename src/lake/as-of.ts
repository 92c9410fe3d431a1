import { TributaryError } from '../errors.js';

/** A point in a table's history: a snapshot id, or a time (the last snapshot committed at or before it). */
export type AsOf = { snapshotId: number } | { timestamp: Date };

/** Parses `--as-of`: a positive integer is a snapshot id, anything else must be a date or timestamp. */
export function parseAsOf(value: string, where = '--as-of'): AsOf {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return { snapshotId: Number(trimmed) };
  const time = new Date(trimmed);
  if (Number.isNaN(time.getTime())) {
    throw new TributaryError('INVALID_INPUT', `${where}: "${value}" is neither a snapshot id nor a timestamp`, {
      hint: 'e.g. --as-of 3 or --as-of 2026-11-22T10:00:00Z',
    });
  }
  return { timestamp: time };
}
