/**
 * JSON-safe copy of a value read from DuckDB: bigints become numbers when exact (text otherwise), dates ISO text,
 * DuckDB value objects (decimals, intervals…) their text form.
 */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    if (typeof (value as { toString?: unknown }).toString === 'function' && (value as object).constructor?.name?.startsWith('DuckDB')) return String(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
