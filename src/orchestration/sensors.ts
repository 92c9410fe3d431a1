import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { SensorConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { discover, displayPath } from '../sources/files/files.js';
import type { Lake } from '../lake/lake.js';

/** One evaluation of a sensor: whether it fires, the cursor to keep, and why (recorded with the run it starts). */
export interface SensorEvaluation {
  fire: boolean;
  cursor: string;
  detail: string;
}

/**
 * Evaluates a sensor against the cursor of its last firing. Cursors are JSON kept in the catalog:
 * - files: the newest modification time seen and the names that had it (a file is new when it is newer, or as new
 *   but not among those names; at the first evaluation every matching file is new);
 * - table: the snapshot id last seen (the first evaluation only records it);
 * - http: the ETag, Last-Modified or body digest of the last 2xx answer.
 */
export async function evaluateSensor(name: string, sensor: SensorConfig, lake: Lake, cursor: string | undefined): Promise<SensorEvaluation> {
  if (sensor.kind === 'files') {
    const before = cursor ? (JSON.parse(cursor) as { mtimeMs: number; names: string[] }) : undefined;
    const files = await Promise.all(
      (await discover(sensor.glob, lake.config.projectDir)).map(async (f) => ({
        name: displayPath(f, lake.config.projectDir),
        mtimeMs: (await stat(f)).mtimeMs,
      })),
    );
    const fresh = files.filter((f) => !before || f.mtimeMs > before.mtimeMs || (f.mtimeMs === before.mtimeMs && !before.names.includes(f.name)));
    const newest = Math.max(before?.mtimeMs ?? 0, ...files.map((f) => f.mtimeMs));
    const names = files
      .filter((f) => f.mtimeMs === newest)
      .map((f) => f.name)
      .sort();
    const next = JSON.stringify({ mtimeMs: newest, names: newest === before?.mtimeMs ? [...new Set([...before.names, ...names])].sort() : names });
    const shown = fresh
      .slice(0, 5)
      .map((f) => f.name)
      .join(', ');
    return { fire: fresh.length > 0, cursor: next, detail: `${name}: ${fresh.length} new file(s): ${shown}${fresh.length > 5 ? ', …' : ''}` };
  }
  if (sensor.kind === 'table') {
    const before = cursor ? (JSON.parse(cursor) as { snapshot: number }) : undefined;
    const snapshot = (await lake.catalog.getTable(sensor.table))?.currentSnapshot ?? 0;
    return {
      fire: before !== undefined && snapshot !== before.snapshot && snapshot > 0,
      cursor: JSON.stringify({ snapshot }),
      detail: `${name}: ${sensor.table} is at snapshot ${snapshot}`,
    };
  }
  const before = cursor ? (JSON.parse(cursor) as { identity: string }) : undefined;
  let response: Response;
  try {
    response = await fetch(sensor.url, { headers: sensor.headers, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    return { fire: false, cursor: cursor ?? JSON.stringify({ identity: '' }), detail: `${name}: ${sensor.url} did not answer: ${errorMessage(err)}` };
  }
  const body = await response.arrayBuffer();
  if (!response.ok) return { fire: false, cursor: cursor ?? JSON.stringify({ identity: '' }), detail: `${name}: ${sensor.url} answered ${response.status}` };
  const identity = response.headers.get('etag') ?? response.headers.get('last-modified') ?? createHash('sha256').update(Buffer.from(body)).digest('hex');
  return {
    fire: identity !== before?.identity,
    cursor: JSON.stringify({ identity }),
    detail: `${name}: ${sensor.url} answered ${response.status} (${identity.slice(0, 16)})`,
  };
}
