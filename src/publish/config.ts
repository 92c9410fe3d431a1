import { z } from 'zod';
import { identifierSchema, tableNameSchema } from '../lake/table-name.js';
import { serdeSpecSchema } from '../serdes/serde.js';

/** The `publish` setting: lake tables whose rows are sent to a topic of the log (`publish:<name>` assets). */
export const publicationSchema = z.strictObject({
  /** The lake table published. */
  table: tableNameSchema,
  /** The topic its rows go to (created with `partitions` when missing). */
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "topic names use letters, digits, '.', '_' and '-'"),
  /** Partitions of the topic when it is created (default 1). */
  partitions: z.number().int().positive().optional(),
  /** The column whose value keys each record (rows of one key go to one partition, in order); default: no key. */
  key: identifierSchema.optional(),
  /**
   * `new-rows` (default): the rows a new snapshot added since the last publication — the files an append added, or,
   * when the table was rewritten, the rows not in the snapshot published before. `snapshot`: every row of each new
   * snapshot.
   */
  mode: z.enum(['new-rows', 'snapshot']).optional(),
  /** The records' format (default 'json': one JSON object per row, as DuckDB writes it). */
  format: serdeSpecSchema.optional(),
});
export type PublicationConfig = z.infer<typeof publicationSchema>;
