import type { ServeSettings, ServedTable } from '../config/types.js';
import type { Lake } from '../lake/lake.js';
import type { LiveTable, LiveTables } from './live-tables.js';
import type { Reader } from './reader.js';
import type { ResponseCache } from './response-cache.js';

/** What every route plugin gets: the lake, live snapshots of exposed tables, and the query pool. */
export interface ServeContext {
  lake: Lake;
  settings: ServeSettings;
  live: LiveTables;
  reader: Reader;
  /** Responses by snapshot and URL: key them with `${table.view}|${url}` (the view name carries the snapshot). */
  cache: ResponseCache;
  /** An exposed table with data, or a 404. */
  table(layer: string, table: string): LiveTable;
  served(name: string): ServedTable;
}

export class NotFound extends Error {
  readonly statusCode = 404;
}
