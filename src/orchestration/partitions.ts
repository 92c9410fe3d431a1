import { TributaryError } from '../errors.js';

/** Date partitions of a job: a day is `YYYY-MM-DD`, a month `YYYY-MM`. */
export type Granularity = 'day' | 'month';

const FORMAT: Record<Granularity, RegExp> = { day: /^\d{4}-\d{2}-\d{2}$/, month: /^\d{4}-\d{2}$/ };

/** Checks a partition key (or a date, for monthly partitions: 2011-01-15 means 2011-01) and returns the key. */
export function partitionKey(granularity: Granularity, value: string, where: string): string {
  const key = granularity === 'month' && FORMAT.day.test(value) ? value.slice(0, 7) : value;
  const date = new Date(`${granularity === 'month' ? `${key}-01` : key}T00:00:00Z`);
  if (!FORMAT[granularity].test(key) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, key.length) !== key) {
    throw new TributaryError('INVALID_INPUT', `${where}: "${value}" is not a ${granularity === 'day' ? 'date YYYY-MM-DD' : 'month YYYY-MM'}`);
  }
  return key;
}

/** Every partition from `from` to `to`, both included. */
export function partitionRange(granularity: Granularity, from: string, to: string): string[] {
  const first = partitionKey(granularity, from, '--from');
  const last = partitionKey(granularity, to, '--to');
  if (first > last) throw new TributaryError('INVALID_INPUT', `--from ${first} is after --to ${last}`);
  const keys: string[] = [];
  for (let key = first; key <= last; key = nextKey(granularity, key)) keys.push(key);
  return keys;
}

function nextKey(granularity: Granularity, key: string): string {
  const d = new Date(`${granularity === 'month' ? `${key}-01` : key}T00:00:00Z`);
  if (granularity === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, granularity === 'day' ? 10 : 7);
}

/** The partition that ended when a schedule fired: the day (or month) before the fire time's date in the time zone. */
export function partitionBefore(granularity: Granularity, fireTime: Date, timezone: string): string {
  const local = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(fireTime);
  const d = new Date(`${local}T00:00:00Z`);
  if (granularity === 'day') {
    d.setUTCDate(d.getUTCDate() - 1);
    return d.toISOString().slice(0, 10);
  }
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}
