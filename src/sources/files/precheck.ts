import type { CsvOptions, ExpectedSchema, FileFormat } from '../../config/types.js';

/** Why a file is refused before (or while) being read; `code` is stable and machine-readable. */
export interface Refusal {
  code:
    | 'empty_file'
    | 'binary_content'
    | 'invalid_encoding'
    | 'duplicate_columns'
    | 'missing_columns'
    | 'unexpected_columns'
    | 'unreadable'
    | 'mixed_line_endings'
    | 'too_many_columns'
    | 'rows_rejected'
    | 'schema_contract';
  reason: string;
  details?: Record<string, unknown>;
}

/**
 * Checks the first bytes of a file: empty, binary (NUL bytes in a text format), or text that is not in the declared
 * encoding. Cheap, and it turns DuckDB's generic read errors into reasons a user can act on.
 */
export function checkHead(head: Buffer, sizeBytes: number, format: FileFormat, csv: CsvOptions | undefined): Refusal | undefined {
  if (sizeBytes === 0) return { code: 'empty_file', reason: 'the file is empty (0 bytes)' };
  if (format === 'parquet') {
    return head.subarray(0, 4).toString('latin1') === 'PAR1' ? undefined : { code: 'unreadable', reason: 'not a Parquet file (no PAR1 magic bytes)' };
  }
  const encoding = csv?.encoding ?? 'utf-8';
  if (encoding === 'utf-16') return undefined;
  const nul = head.indexOf(0);
  if (nul >= 0)
    return {
      code: 'binary_content',
      reason: `binary content: NUL byte at offset ${nul}; this is not a text ${format.toUpperCase()} file`,
      details: { offset: nul },
    };
  if (encoding === 'utf-8') {
    const bad = firstInvalidUtf8(head);
    if (bad >= 0) {
      return {
        code: 'invalid_encoding',
        reason: `not valid UTF-8 at byte ${bad}${format === 'csv' ? "; if the file is Latin-1, declare csv: { encoding: 'latin-1' }" : ''}`,
        details: { offset: bad },
      };
    }
  }
  return undefined;
}

/** Offset of the first invalid UTF-8 sequence, or -1. A sequence cut by the end of the buffer is not an error. */
export function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : (b & 0xe0) === 0xc0 && b >= 0xc2 ? 1 : (b & 0xf0) === 0xe0 ? 2 : (b & 0xf8) === 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return -1;
      if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** The header fields of a CSV file from its first bytes (after `skip` lines), honouring quotes. */
export function csvHeader(head: Buffer, csv: CsvOptions | undefined): { fields: string[]; delimiter: string } {
  let text = csv?.encoding === 'latin-1' ? head.toString('latin1') : csv?.encoding === 'utf-16' ? head.toString('utf16le') : head.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r\n|\n|\r/);
  const line = lines[csv?.skip ?? 0] ?? '';
  const delimiter = csv?.delimiter ?? guessDelimiter(line);
  const quote = csv?.quote ?? '"';
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote && ch === quote) {
      if (quoted && line[i + 1] === quote) {
        current += quote;
        i++;
      } else quoted = !quoted;
    } else if (!quoted && line.startsWith(delimiter, i)) {
      fields.push(current.trim());
      current = '';
      i += delimiter.length - 1;
    } else current += ch;
  }
  fields.push(current.trim());
  return { fields, delimiter };
}

function guessDelimiter(line: string): string {
  const candidates = [',', ';', '\t', '|'];
  let best = ',';
  let bestCount = 0;
  for (const c of candidates) {
    const count = line.split(c).length - 1;
    if (count > bestCount) {
      best = c;
      bestCount = count;
    }
  }
  return best;
}

export function duplicateColumns(fields: readonly string[]): Refusal | undefined {
  const seen = new Map<string, number>();
  for (const f of fields) seen.set(f.toLowerCase(), (seen.get(f.toLowerCase()) ?? 0) + 1);
  const dups = [...seen.entries()].filter(([, n]) => n > 1).map(([name]) => name);
  if (dups.length === 0) return undefined;
  return { code: 'duplicate_columns', reason: `duplicate column names in the header: ${dups.join(', ')}`, details: { columns: dups } };
}

/** Columns every bronze row gets from ingestion; an input file may not bring its own. */
export const LINEAGE_COLUMNS = ['_ingested_at', '_source', '_source_file', '_file_hash', '_batch_id'] as const;

export function reservedColumns(columns: readonly string[]): Refusal | undefined {
  const clash = columns.filter((c) => (LINEAGE_COLUMNS as readonly string[]).includes(c.toLowerCase()));
  if (clash.length === 0) return undefined;
  return {
    code: 'unexpected_columns',
    reason: `column${clash.length > 1 ? 's' : ''} ${clash.join(', ')} ${clash.length > 1 ? 'are' : 'is'} reserved: ingestion adds ${LINEAGE_COLUMNS.join(', ')} to every row`,
    details: { reserved: clash },
  };
}

/** Declared columns as name → {type, required}. */
export function declaredColumns(schema: ExpectedSchema | undefined): Map<string, { type: string | undefined; required: boolean }> {
  const out = new Map<string, { type: string | undefined; required: boolean }>();
  for (const [name, spec] of Object.entries(schema?.columns ?? {})) {
    if (typeof spec === 'string') out.set(name, { type: spec, required: true });
    else out.set(name, { type: spec.type, required: spec.required ?? true });
  }
  return out;
}

/** Validates the columns a file has against the expected schema. */
export function validateColumns(columns: readonly string[], schema: ExpectedSchema | undefined, delimiterHint?: string): Refusal | undefined {
  if (!schema) return undefined;
  const declared = declaredColumns(schema);
  const present = new Set(columns);
  const missing = [...declared.entries()].filter(([name, spec]) => spec.required && !present.has(name)).map(([name]) => name);
  if (missing.length) {
    let reason = `missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${columns.join(', ') || 'none'})`;
    if (columns.length === 1 && /[;,\t|]/.test(columns[0]!)) reason += `; the delimiter looks wrong (read with "${delimiterHint ?? 'auto'}")`;
    return { code: 'missing_columns', reason, details: { missing, found: columns } };
  }
  if (schema.strict) {
    const extra = columns.filter((c) => !declared.has(c));
    if (extra.length) return { code: 'unexpected_columns', reason: `columns not in the declared schema: ${extra.join(', ')}`, details: { unexpected: extra } };
  }
  return undefined;
}
