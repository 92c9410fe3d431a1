import type { AggregateSpec, FieldType, StreamConfig, StreamEvent, StreamOutput } from '../config/types.js';
import { TributaryError } from '../errors.js';
import { parseTableName } from '../lake/table-name.js';
import { type ContractColumn, contractColumns } from '../registry/lake-columns.js';
import { createSerde, type Serde, type SerdeContext } from '../serdes/index.js';
import { fieldChecks, type FieldCheck } from './decode.js';
import { toMillis } from '../util/duration.js';

export type CompiledWindow = { kind: 'tumbling' | 'hopping'; sizeMs: number; advanceMs: number } | { kind: 'session'; gapMs: number };

export interface CompiledOutput {
  table: string;
  window: CompiledWindow;
  lateness: number;
  groupBy: string[];
  /** Types of the group columns, from the declared fields (VARCHAR when undeclared). */
  groupTypes: string[];
  aggregates: { name: string; spec: AggregateSpec }[];
  emit: 'on-window-close' | 'on-update';
  topic: string | undefined;
  topicPartitions: number;
  /** The format of the output topic's values (its `format`, default JSON). */
  topicFormat: Serde;
}

/** A stream definition checked and resolved: durations in ms, table names filled in. */
export interface CompiledStream {
  name: string;
  topic: string;
  partitions: number;
  /** The format of the topic's values (`format`, default JSON). */
  format: Serde;
  checks: FieldCheck[];
  eventTime: string;
  watermarkMs: number;
  idleMs: number;
  /** Accepted event times relative to the processing clock (ms; undefined: no limit), within LAKE_TIME_RANGE. */
  maxAheadMs: number | undefined;
  maxBehindMs: number | undefined;
  filter: ((event: StreamEvent) => boolean) | undefined;
  map: ((event: StreamEvent) => StreamEvent | null | undefined) | undefined;
  outputs: CompiledOutput[];
  landing: string | undefined;
  /**
   * The typed events table (`events`), with its columns: the declared fields, or — without \`fields\` — the columns of
   * the format's schema (\`contract\`: an Avro reader schema or a JSON Schema, nested types and all).
   */
  events: { table: string; columns: { name: string; type: FieldType }[]; contract?: ContractColumn[] } | undefined;
  dlqTable: string;
  dlqTopic: string | undefined;
  lateTable: string;
  maxEventBytes: number;
  startingOffsets: 'earliest' | 'latest';
  intervalMs: number;
  maxRecords: number;
  compactEvery: number;
}

const SQL_TYPES: Record<FieldType, string> = { string: 'VARCHAR', number: 'DOUBLE', integer: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'VARCHAR' };

export function compileStream(name: string, config: StreamConfig, context: SerdeContext = {}): CompiledStream {
  const where = `streams.${name}`;
  const base = name.replace(/-/g, '_').toLowerCase();
  const declared = new Map(fieldChecks(config.fields).map((c) => [c.name, c.type]));
  const checks = fieldChecks(config.fields, config.eventTime);
  if (config.fields && !config.map && declared.get(config.eventTime) === undefined) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `${where}.eventTime: "${config.eventTime}" is not among the declared fields (${[...declared.keys()].join(', ')})`,
    );
  }
  const format = createSerde(config.format, `${where}.format`, { ...context, topic: config.topic });
  // Without declared fields, a format with a schema gives the columns (and the group-by columns their types).
  const contract = !config.fields && format.contract ? format.contract() : undefined;
  const contractCols = contract ? contractColumns(contract, `${where}.format.schema`) : undefined;
  const contractTypes = new Map((contractCols ?? []).map((c) => [c.name, c.type]));
  const outputs = Object.entries(config.outputs ?? {}).map(([table, output]) =>
    compileOutput(`${where}.outputs.${table}`, table, output, config, declared, context, contractTypes),
  );
  const landing = config.landing === false ? undefined : (config.landing ?? `bronze.${base}_raw`);
  if (outputs.length === 0 && landing === undefined) {
    throw new TributaryError('CONFIG_INVALID', `${where}: no outputs and no landing table: the stream would keep nothing`, {
      hint: 'declare outputs (windowed aggregations), or keep the landing table (landing: true by default)',
    });
  }
  const dlqTable = config.dlq?.table ?? `bronze.${base}_dlq`;
  const lateTable = config.lateTable ?? `bronze.${base}_late`;
  if (config.events && !config.fields && !contractCols)
    throw new TributaryError(
      'CONFIG_INVALID',
      `${where}.events: the events table takes its columns from the declared fields or from the format's schema: declare \`fields\`, or give the format a schema`,
    );
  const events = config.events
    ? { table: config.events, columns: [...declared].map(([n, type]) => ({ name: n, type })), ...(contractCols ? { contract: contractCols } : {}) }
    : undefined;
  for (const c of [...(events?.columns ?? []), ...(events?.contract ?? [])])
    if (['topic', 'partition', 'offset'].includes(c.name))
      throw new TributaryError('CONFIG_INVALID', `${where}.events: field "${c.name}" clashes with the column of the record's position`);
  const tables = [...outputs.map((o) => o.table), landing, events?.table, dlqTable, lateTable].filter((t): t is string => t !== undefined);
  for (const t of tables) parseTableName(t);
  const dup = tables.find((t, i) => tables.indexOf(t) !== i);
  if (dup) throw new TributaryError('CONFIG_INVALID', `${where}: table ${dup} is used twice (outputs, landing, dlq and late tables must differ)`);
  const dlqTopic = config.dlq?.topic === false ? undefined : (config.dlq?.topic ?? `${config.topic}.dlq`);
  return {
    name,
    topic: config.topic,
    partitions: config.partitions ?? 1,
    format,
    checks,
    eventTime: config.eventTime,
    watermarkMs: toMillis(config.watermark, `${where}.watermark`),
    idleMs: toMillis(config.idleTimeout ?? '30s', `${where}.idleTimeout`),
    maxAheadMs:
      config.eventTimeLimits?.maxAhead === false ? undefined : toMillis(config.eventTimeLimits?.maxAhead ?? '1h', `${where}.eventTimeLimits.maxAhead`),
    maxBehindMs:
      config.eventTimeLimits?.maxBehind === false || config.eventTimeLimits?.maxBehind === undefined
        ? undefined
        : toMillis(config.eventTimeLimits.maxBehind, `${where}.eventTimeLimits.maxBehind`),
    filter: config.filter,
    map: config.map,
    outputs,
    landing,
    events,
    dlqTable,
    dlqTopic,
    lateTable,
    maxEventBytes: config.maxEventBytes ?? 1024 * 1024,
    startingOffsets: config.startingOffsets ?? 'earliest',
    intervalMs: config.trigger?.intervalMs ?? 250,
    maxRecords: config.trigger?.maxRecords ?? 50_000,
    compactEvery: config.compactEvery ?? 500,
  };
}

function compileOutput(
  where: string,
  table: string,
  output: StreamOutput,
  config: StreamConfig,
  declared: Map<string, FieldType>,
  context: SerdeContext,
  contractTypes: ReadonlyMap<string, string>,
): CompiledOutput {
  const w = output.window;
  let window: CompiledWindow;
  if (w.kind === 'session') {
    window = { kind: 'session', gapMs: positive(toMillis(w.gap, `${where}.window.gap`), `${where}.window.gap`) };
  } else {
    const sizeMs = positive(toMillis(w.size, `${where}.window.size`), `${where}.window.size`);
    const hopping = w.kind === 'hopping';
    const advanceMs = hopping ? positive(toMillis(w.advance, `${where}.window.advance`), `${where}.window.advance`) : sizeMs;
    if (advanceMs > sizeMs)
      throw new TributaryError(
        'CONFIG_INVALID',
        `${where}.window: advance (${advanceMs} ms) is larger than size (${sizeMs} ms): events would fall between windows`,
      );
    window = { kind: hopping ? 'hopping' : 'tumbling', sizeMs, advanceMs };
  }
  const groupBy = output.groupBy ?? [];
  const aggregates = Object.entries(output.aggregates).map(([name, spec]) => ({ name, spec }));
  const columns = ['window_start', 'window_end', ...groupBy, ...aggregates.map((a) => a.name), ...(output.emit === 'on-update' ? ['is_final'] : [])];
  const clash = columns.find((c, i) => columns.indexOf(c) !== i);
  if (clash)
    throw new TributaryError('CONFIG_INVALID', `${where}: column "${clash}" appears twice (group-by fields, aggregates, window_start/window_end/is_final)`);
  const known = config.fields ? declared : contractTypes;
  if ((config.fields || contractTypes.size) && !config.map) {
    for (const field of [...groupBy, ...aggregates.flatMap((a) => (a.spec.field ? [a.spec.field] : []))]) {
      if (!known.has(field))
        throw new TributaryError(
          'CONFIG_INVALID',
          `${where}: field "${field}" is not among the ${config.fields ? 'declared fields' : "fields of the format's schema"} (${[...known.keys()].join(', ')})`,
        );
    }
  }
  return {
    table,
    window,
    lateness: toMillis(output.allowedLateness ?? 0, `${where}.allowedLateness`),
    groupBy,
    groupTypes: groupBy.map((f) => (declared.has(f) ? SQL_TYPES[declared.get(f)!] : groupType(contractTypes.get(f)))),
    aggregates,
    emit: output.emit ?? 'on-window-close',
    topic: output.topic,
    topicPartitions: output.topicPartitions ?? 1,
    topicFormat: createSerde(output.format, `${where}.format`, { ...context, ...(output.topic ? { topic: output.topic } : {}) }),
  };
}

/** A group column's type from a contract: integers, floats and booleans as the windows hold them; the rest as text. */
function groupType(type: string | undefined): string {
  if (type === 'INTEGER' || type === 'BIGINT') return 'BIGINT';
  if (type === 'FLOAT' || type === 'DOUBLE') return 'DOUBLE';
  return type === 'BOOLEAN' ? 'BOOLEAN' : 'VARCHAR';
}

function positive(ms: number, where: string): number {
  if (ms <= 0) throw new TributaryError('CONFIG_INVALID', `${where}: must be longer than 0`);
  return ms;
}

/** Every lake table a stream writes. */
export function streamTables(s: CompiledStream): string[] {
  return [...s.outputs.map((o) => o.table), s.landing, s.events?.table, s.dlqTable, s.lateTable].filter((t): t is string => t !== undefined);
}

export function requireStream(streams: Record<string, StreamConfig>, name: string, context: SerdeContext = {}): CompiledStream {
  const config = streams[name];
  if (!config) {
    const known = Object.keys(streams);
    throw new TributaryError('NOT_FOUND', `no stream named "${name}"${known.length ? ` (streams: ${known.join(', ')})` : ' (the config declares no streams)'}`);
  }
  return compileStream(name, config, context);
}
