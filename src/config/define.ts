import type {
  AggregateSpec,
  CheckOptions,
  CheckSpec,
  Duration,
  FileSourceConfig,
  DocumentsSourceConfig,
  HttpSourceConfig,
  SqlSourceConfig,
  StreamConfig,
  TributaryConfig,
  WindowSpec,
} from './types.js';

/** Identity function that gives a config file types and editor completion (the Vite/Vitest pattern). */
export function defineConfig(config: TributaryConfig): TributaryConfig {
  return config;
}

/** Declare a file source: files matching `glob` are ingested into the table `into`. */
export function files(options: Omit<FileSourceConfig, 'kind'>): FileSourceConfig {
  return { kind: 'files', ...options };
}

/** Declare a database source: a table (or a query) read into the table `into`. */
export function sql(options: Omit<SqlSourceConfig, 'kind'>): SqlSourceConfig {
  return { kind: 'sql', ...options };
}

/** Declare a documents source: PDF and images recognised by Tesseract, one row per document (OCR, type, invoice fields). */
export function documents(options: Omit<DocumentsSourceConfig, 'kind'>): DocumentsSourceConfig {
  return { kind: 'documents', ...options };
}

/** Declare an HTTP source: resources of a REST API, each into a table, every response kept in a raw table. */
export function http(options: Omit<HttpSourceConfig, 'kind'>): HttpSourceConfig {
  return { kind: 'http', ...options };
}

/**
 * One source per table of a database, each into the layer `into` under the table's name:
 * `sources: sqlTables('${PG_URL}', ['orders', 'customers'], { into: 'bronze' })` declares sources `orders` and
 * `customers` landing in `bronze.orders` and `bronze.customers`. A table given with options (`{ orders: { … } }`)
 * gets them on top of the shared ones: its disposition, cursor, columns.
 */
export function sqlTables(
  url: string,
  tables: readonly string[] | Record<string, Partial<Omit<SqlSourceConfig, 'kind' | 'url' | 'table'>>>,
  options: { into: string; prefix?: string } & Partial<Omit<SqlSourceConfig, 'kind' | 'url' | 'table' | 'into'>>,
): Record<string, SqlSourceConfig> {
  const { into: layer, prefix = '', ...shared } = options;
  const entries = Array.isArray(tables) ? tables.map((t) => [t, {}] as const) : Object.entries(tables);
  return Object.fromEntries(
    entries.map(([table, own]) => {
      const name = `${prefix}${table.split('.').at(-1)!}`;
      return [name, { kind: 'sql', url, table, into: `${layer}.${name}`, ...shared, ...own }];
    }),
  );
}

/** Data-quality checks, for `checks: { 'layer.table': [ … ] }` in the config. */
export const checks = {
  notNull: (column: string, options: CheckOptions = {}): CheckSpec => ({ kind: 'not_null', column, ...options }),
  unique: (columns: string | string[], options: CheckOptions = {}): CheckSpec => ({ kind: 'unique', columns: [columns].flat(), ...options }),
  acceptedValues: (column: string, values: (string | number | boolean)[], options: CheckOptions = {}): CheckSpec => ({
    kind: 'accepted_values',
    column,
    values,
    ...options,
  }),
  /** Values outside [min, max] fail; either bound may be omitted. */
  range: (column: string, bounds: { min?: number; max?: number }, options: CheckOptions = {}): CheckSpec => ({ kind: 'range', column, ...bounds, ...options }),
  rowCount: (bounds: { min?: number; max?: number }, options: CheckOptions = {}): CheckSpec => ({ kind: 'row_count', ...bounds, ...options }),
  /** Fails when the latest value of `column` is older than `maxAgeHours`. */
  freshness: (column: string, maxAgeHours: number, options: CheckOptions = {}): CheckSpec => ({ kind: 'freshness', column, maxAgeHours, ...options }),
  /** Every non-null `column` value must exist in `to` (`layer.table`) column `field` (default: same name). */
  relationships: (column: string, to: string, field: string = column, options: CheckOptions = {}): CheckSpec => ({
    kind: 'relationships',
    column,
    to,
    field,
    ...options,
  }),
  /** Custom SQL returning the failing rows (refer to tables as `layer.table`). */
  sql: (name: string, query: string, options: Omit<CheckOptions, 'name'> = {}): CheckSpec => ({ kind: 'sql', name, query, ...options }),
};

/** Declare a stream (identity: gives the definition types and completion). */
export function stream(config: StreamConfig): StreamConfig {
  return config;
}

/** Event-time windows for stream outputs. */
export const windows = {
  /** Fixed, non-overlapping windows: [00:00, 00:01), [00:01, 00:02)… */
  tumbling: (size: Duration): WindowSpec => ({ kind: 'tumbling', size }),
  /** Hopping windows: `size` long, one starting every `advance`; '5m' every '1m' puts each event in 5 windows. */
  hopping: (size: Duration, advance: Duration): WindowSpec => ({ kind: 'hopping', size, advance }),
  /** Per key, a window lasting while events keep coming less than `gap` apart. */
  session: (gap: Duration): WindowSpec => ({ kind: 'session', gap }),
};

/** Aggregates for stream outputs. */
export const agg = {
  /** Number of events (or of events where `field` is not null). */
  count: (field?: string): AggregateSpec => (field === undefined ? { fn: 'count' } : { fn: 'count', field }),
  sum: (field: string): AggregateSpec => ({ fn: 'sum', field }),
  avg: (field: string): AggregateSpec => ({ fn: 'avg', field }),
  min: (field: string): AggregateSpec => ({ fn: 'min', field }),
  max: (field: string): AggregateSpec => ({ fn: 'max', field }),
};
