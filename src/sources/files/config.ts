import { z } from 'zod';
import { schemaContractSchema } from '../../lake/config.js';
import { tableNameSchema } from '../../lake/table-name.js';

/** The config of a `kind: 'files'` source; its TypeScript types are inferred from these schemas. */

export const fileFormatSchema = z.enum(['csv', 'json', 'ndjson', 'parquet']);
export type FileFormat = z.infer<typeof fileFormatSchema>;

/** What to do with bad input. `reject`: bad rows go to the rejects table, unreadable files to quarantine.
 * `quarantine`: any file with a bad row or a read error is quarantined whole. `fail`: stop the run. */
export const errorPolicySchema = z.enum(['fail', 'quarantine', 'reject']);
export type ErrorPolicy = z.infer<typeof errorPolicySchema>;

export const csvOptionsSchema = z.strictObject({
  /** Field delimiter; auto-detected when omitted. */
  delimiter: z.string().min(1).optional(),
  quote: z.string().optional(),
  escape: z.string().optional(),
  /** Whether the first line names the columns (default true). */
  header: z.boolean().optional(),
  encoding: z.enum(['utf-8', 'latin-1', 'utf-16']).optional(),
  /** Lines to skip before the header. */
  skip: z.number().int().nonnegative().optional(),
  /** Strings read as NULL (default: the empty string). */
  nullValues: z.array(z.string()).optional(),
  dateFormat: z.string().optional(),
  timestampFormat: z.string().optional(),
  /** Longest line accepted, in bytes (default 2,000,000, DuckDB's); a longer one makes the file unreadable. */
  maxLineSize: z.number().int().positive().optional(),
  /** Most columns a file may have (default 10,000); a wider header is refused (`too_many_columns`). */
  maxColumns: z.number().int().positive().optional(),
});
export type CsvOptions = z.infer<typeof csvOptionsSchema>;

/** A declared column: a DuckDB type name ('BIGINT', 'DOUBLE', 'DATE', 'VARCHAR'…), required unless `required: false`. */
export const columnSpecSchema = z.strictObject({ type: z.string().min(1).optional(), required: z.boolean().optional() });
export type ColumnSpec = z.infer<typeof columnSpecSchema>;

export const expectedSchemaSchema = z.strictObject({
  columns: z.record(z.string(), z.union([z.string().min(1), columnSpecSchema])),
  /** When true, a file with columns not declared here fails validation. Default false. */
  strict: z.boolean().optional(),
});
export type ExpectedSchema = z.infer<typeof expectedSchemaSchema>;

/** `kind: 'files'`: files matching globs, each content ingested once (by hash), bad files quarantined. */
export const fileSourceSchema = z.strictObject({
  kind: z.literal('files'),
  /** One or more glob patterns, relative to the project folder. `${VAR:-default}` is interpolated. */
  glob: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Target lake table, `layer.table`. */
  into: tableNameSchema,
  /** Defaults to the file extension (.csv .tsv .json .ndjson/.jsonl .parquet). */
  format: fileFormatSchema.optional(),
  csv: csvOptionsSchema.optional(),
  schema: expectedSchemaSchema.optional(),
  onError: errorPolicySchema.optional(),
  /**
   * A file already ingested whose content changed (a re-export): 'replace' (default) takes the previous version's
   * rows (and rejects) out of the table in the same commit that adds the new ones; 'keep' keeps every version.
   */
  onChange: z.enum(['replace', 'keep']).optional(),
  /**
   * What a file may change in the table's schema (dlt's schema contract; over `tables[…].schemaContract`). Files are
   * read with the table's types. `types`: 'freeze' (default) quarantines a file with a value of another type, naming
   * the column, the table's type and the file's; 'evolve' also takes a type the table's widens to without loss
   * (INTEGER → BIGINT → DOUBLE, DECIMAL → DOUBLE, DATE → TIMESTAMP) and quarantines the others; 'discard_row' sets
   * the rows that do not fit aside in `<table>_rejects`. `columns`: 'evolve' (default) adds new columns, 'freeze'
   * quarantines a file that has one, 'discard_value' drops them, 'discard_row' sets aside the rows with a value in one.
   */
  schemaContract: schemaContractSchema.optional(),
});
export type FileSourceConfig = z.infer<typeof fileSourceSchema>;
