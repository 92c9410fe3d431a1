// SQL text helpers of the engine layer: every layer above quotes identifiers and literals with these.

/** Quotes an identifier for DuckDB / PostgreSQL SQL. */
export function quoteIdent(ident: string): string {
  return `"${ident.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
