/**
 * DuckDB type names as DESCRIBE writes them (`STRUCT("name" VARCHAR, vip BOOLEAN)[]`, `MAP(VARCHAR, INTEGER)`,
 * `DECIMAL(10,2)`), taken apart: what the API's JSON Schemas and the Iceberg projection both read.
 */

/** The index of the `[` that opens a list type's trailing `[]` (or `[n]`); 0 when there is none. */
export function matchingOpen(type: string): number {
  let depth = 0;
  for (let i = type.length - 1; i >= 0; i--) {
    if (type[i] === ']' || type[i] === ')') depth++;
    else if (type[i] === '[' || type[i] === '(') {
      depth--;
      if (depth === 0 && type[i] === '[') return i;
    }
  }
  return 0;
}

/** Splits at commas outside parentheses and quotes: `a INTEGER, b STRUCT(c INT, d INT)` → two parts. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter(Boolean);
}

/** A STRUCT field as DuckDB writes it: `"a b" VARCHAR` or `a VARCHAR`. */
export function structField(part: string): { name: string; type: string } {
  const quoted = /^"((?:[^"]|"")*)"\s+(.*)$/s.exec(part);
  if (quoted) return { name: quoted[1]!.replace(/""/g, '"'), type: quoted[2]! };
  const space = part.search(/\s/);
  return { name: part.slice(0, space), type: part.slice(space + 1).trim() };
}
