import { randomBytes } from 'node:crypto';

/** Sortable, unique ids: UTC time to the millisecond, then randomness (e.g. `20261122T105810123Z-1a2b3c4d`). */
export function newId(prefix = ''): string {
  const time = new Date().toISOString().replace(/[-:.]/g, '');
  return `${prefix}${time}-${randomBytes(4).toString('hex')}`;
}
