import type { FieldType, StreamEvent } from '../config/types.js';
import type { Serde } from '../serdes/index.js';

/** Event times the lake, SQL and the API can all hold: years 0001 to 9999 (UTC). */
export const LAKE_TIME_RANGE = { min: -62_135_596_800_000 /* 0001-01-01T00:00:00Z */, max: 253_402_300_799_999 /* 9999-12-31T23:59:59.999Z */ } as const;

export type DecodeFailure = {
  code:
    | 'too_large'
    | 'empty'
    | 'unparseable'
    | 'not_an_object'
    | 'invalid_field'
    | 'missing_event_time'
    | 'event_time_out_of_range'
    | 'map_failed'
    | 'processing_failed';
  message: string;
};

export interface FieldCheck {
  name: string;
  type: FieldType;
  required: boolean;
}

/** The checks of declared fields, but the event-time field's (see decodeEvent). */
export function fieldChecks(fields: Record<string, string> | undefined, eventTime?: string): FieldCheck[] {
  return Object.entries(fields ?? {})
    .filter(([name]) => name !== eventTime)
    .map(([name, spec]) => ({
      name,
      type: spec.replace('?', '') as FieldType,
      required: !spec.endsWith('?'),
    }));
}

/** Decodes and validates one record value (the event-time field is the caller's to check: it parses it anyway). */
export function decodeEvent(
  value: Buffer | null,
  format: Serde,
  checks: readonly FieldCheck[],
  maxBytes: number,
): { event: StreamEvent; failure?: undefined } | { failure: DecodeFailure } {
  if (value === null || value.length === 0) return { failure: { code: 'empty', message: 'the record has no value' } };
  if (value.length > maxBytes) {
    return { failure: { code: 'too_large', message: `the record is ${value.length} bytes, over maxEventBytes (${maxBytes})` } };
  }
  let decoded: unknown;
  try {
    decoded = format.decode(value);
  } catch (err) {
    return { failure: { code: 'unparseable', message: `cannot decode: ${err instanceof Error ? err.message : String(err)}` } };
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    return {
      failure: {
        code: 'not_an_object',
        message: `expected an object, got ${Array.isArray(decoded) ? 'an array' : decoded === null ? 'null' : typeof decoded}`,
      },
    };
  }
  const event = decoded as StreamEvent;
  for (const check of checks) {
    const v = event[check.name];
    if (v === undefined || v === null) {
      if (check.required) return { failure: { code: 'invalid_field', message: `field "${check.name}" is missing` } };
      continue;
    }
    const problem = typeProblem(v, check.type);
    if (problem) return { failure: { code: 'invalid_field', message: `field "${check.name}": ${problem}` } };
  }
  return { event };
}

function typeProblem(v: unknown, type: FieldType): string | undefined {
  switch (type) {
    case 'string':
      return typeof v === 'string' ? undefined : `expected a string, got ${describe(v)}`;
    case 'number':
      if (typeof v === 'number' && !Number.isFinite(v)) return 'number out of range (too large for a double: it reads as infinity)';
      return typeof v === 'number' ? undefined : `expected a number, got ${describe(v)}`;
    case 'integer':
      if (typeof v === 'number' && !Number.isFinite(v)) return 'number out of range (too large for a double: it reads as infinity)';
      if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v))
        return `integer out of range: ${v} is beyond ±2^53, where integers are no longer exact`;
      return typeof v === 'number' && Number.isInteger(v) ? undefined : `expected an integer, got ${describe(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `expected true or false, got ${describe(v)}`;
    case 'timestamp':
      return eventTimeOf(v) === undefined ? `expected an ISO-8601 time or epoch milliseconds, got ${describe(v)}` : undefined;
  }
}

/** Epoch milliseconds of an event-time value, or undefined when it is not a time. */
export function eventTimeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
  // A time without an offset is UTC, whatever this machine's time zone (Date.parse would take local time).
  const ms = Date.parse(v.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? `${v}Z` : v);
  return Number.isNaN(ms) ? undefined : ms;
}

function describe(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return `${typeof v} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}
