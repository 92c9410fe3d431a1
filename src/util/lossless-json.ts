/**
 * JSON as APIs write it, without losing integers beyond 2^53 (snowflake ids, nanosecond times): `JSON.parse` would
 * round them to doubles. Such integers are held as marked strings while the body is handled in JavaScript, and are
 * numbers again in the records written for DuckDB (which reads them as BIGINT, HUGEINT or DECIMAL).
 */

const MARK = '\u0000int:';
/** A JSON string (skipped), or an integer literal of 16 digits or more that is not part of a decimal or exponent. */
const LITERAL = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

export function parseJson(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(LITERAL, (m) => (m.startsWith('"') || Number.isSafeInteger(Number(m)) ? m : `"\\u0000int:${m}"`)));
}

/** The JSON text of a value read by `parseJson`: big integers written back as the numbers they were. */
export function stringifyJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u0000int:') ? text.replace(/"\\u0000int:(-?\d+)"/g, '$1') : text;
}

/** A value read by `parseJson` as a caller uses it: a big integer as its digits. */
export function plain(value: unknown): unknown {
  return typeof value === 'string' && value.startsWith(MARK) ? value.slice(MARK.length) : value;
}
