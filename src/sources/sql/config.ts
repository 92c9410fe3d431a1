import { z } from 'zod';
import { schemaContractSchema } from '../../lake/config.js';
import { identifierSchema, tableNameSchema } from '../../lake/table-name.js';

/** The config of a `kind: 'sql'` source: one table (or query) of a database, into one lake table. */

const column = z.string().min(1);

export const sqlCursorSchema = z.strictObject({
  /** The column whose values only grow as rows are added (an id, `updated_at`…): rows past its last value are read. */
  column,
  /** Rows whose cursor is at least this are read the first time (default: every row). */
  initial: z.union([z.string(), z.number()]).optional(),
  /**
   * Columns that order rows sharing one cursor value (default: the table's primary key), so that a batch ending in
   * the middle of them neither loses nor repeats a row.
   */
  tieBreaker: z.union([column, z.array(column).min(1)]).optional(),
  /**
   * Rows committed late, with a cursor value already passed, are read too when within this much of the last value:
   * a number for a numeric cursor (the last N ids), a duration ('10m', '2h') for a date or time cursor. Rows of that
   * window already in the lake (same cursor and tie-breaker values) are not read twice.
   */
  lookback: z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, "expected a duration like '10m' or '2h'")]).optional(),
});
export type SqlCursor = z.infer<typeof sqlCursorSchema>;

export const sqlSourceSchema = z
  .strictObject({
    kind: z.literal('sql'),
    /**
     * The database: `postgres://user:password@host:port/database`, `mysql://…` or `mariadb://…`. Write secrets as
     * `${ENV}`; the password is never printed (errors and logs show `***`).
     */
    url: z.string().regex(/^(postgres(ql)?|mysql|mariadb):\/\//, 'expected a postgres://, mysql:// or mariadb:// URL'),
    /** Target lake table, `layer.table`. */
    into: tableNameSchema,
    /** The table read: `name`, or `schema.name` (PostgreSQL) / `database.name` (MySQL). */
    table: z
      .string()
      .regex(/^[^.]+(\.[^.]+)?$/, 'expected a table name, or schema.table')
      .optional(),
    /** Or a query whose rows are read (`replace` only). */
    query: z.string().min(1).optional(),
    /** Columns read (default: all). */
    columns: z.array(identifierSchema).min(1).optional(),
    /**
     * `replace` (default): every run reads the whole table into a new snapshot. `append`: each run reads the rows
     * past the cursor, committed with the cursor's new value (exactly once). `merge`: the lake table keeps the current
     * row per primary key; each run reads the table (or, with a cursor, the rows past it) and replaces the rows of
     * the keys it read. `cdc` (PostgreSQL): change data capture through logical replication: the table at a
     * consistent snapshot, then every insert, update and delete as a change row, in commit order, exactly once.
     */
    disposition: z.enum(['replace', 'append', 'merge', 'cdc']).optional(),
    /** `cdc`: the replication slot's name (default `tributary_<source>`). */
    slot: z
      .string()
      .regex(/^[a-z0-9_]{1,63}$/, 'slot names use lower-case letters, digits and _')
      .optional(),
    /** `cdc`: the publication's name (default: the slot's). */
    publication: z.string().min(1).optional(),
    /**
     * `cdc`: also keep this lake table at the source table's current state (the changes applied by primary key),
     * committed with the changes: a mirror of the table that models read as they would read a `replace` source's.
     */
    current: tableNameSchema.optional(),
    cursor: sqlCursorSchema.optional(),
    /** `merge`: the columns identifying a row (default: the table's primary key). */
    primaryKey: z.union([column, z.array(column).min(1)]).optional(),
    /**
     * `merge`: a column saying a row was deleted at the source (a boolean that is true, or a `deleted_at` that is
     * set): such rows are taken out of the lake table instead of kept.
     */
    softDelete: column.optional(),
    /**
     * What a batch may change in the lake table's schema (sources/schema-contract.ts): a column whose type changed at
     * the source is refused by default (`types: 'freeze'`), naming both types; new columns are added (`columns: 'evolve'`).
     */
    schemaContract: schemaContractSchema.optional(),
    /** Replaced by `schemaContract` (refused with a message saying so). */
    allowTypeChanges: z.unknown().optional(),
    /**
     * Largest row read, as text, in bytes (default 16 MiB). Memory use grows with it (DuckDB reads the rows in
     * buffers of twice this size); raise it for tables with large documents or binaries.
     */
    maxRowBytes: z.number().int().min(1024).optional(),
    /** Rows per batch of an `append` run: each batch is one commit (default 500,000). */
    batchSize: z.number().int().positive().optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.table === undefined) === (s.query === undefined)) ctx.addIssue({ code: 'custom', path: ['table'], message: 'give either table or query' });
    if (s.allowTypeChanges !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['allowTypeChanges'],
        message:
          "allowTypeChanges was replaced by schemaContract: { types: 'evolve' } takes a type the lake's widens to without loss, { types: 'discard_row' } casts to the lake's type and sets aside the rows that do not fit",
      });
    if (s.disposition === 'append' && !s.cursor)
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: "disposition 'append' reads past a cursor: declare cursor.column" });
    if (s.disposition === 'append' && s.query) ctx.addIssue({ code: 'custom', path: ['query'], message: "disposition 'append' reads a table, not a query" });
    if (s.cursor && s.disposition !== 'append' && s.disposition !== 'merge')
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: "a cursor is for disposition 'append' or 'merge'" });
    if (s.disposition === 'merge' && s.query && !s.primaryKey)
      ctx.addIssue({ code: 'custom', path: ['primaryKey'], message: 'merging the rows of a query needs their primaryKey' });
    if (s.disposition === 'merge' && s.cursor && s.query) ctx.addIssue({ code: 'custom', path: ['query'], message: 'a cursor reads a table, not a query' });
    if (s.disposition === 'cdc') {
      if (!/^postgres(ql)?:\/\//.test(s.url))
        ctx.addIssue({ code: 'custom', path: ['url'], message: "disposition 'cdc' reads PostgreSQL's write-ahead log: a postgres:// URL" });
      if (!s.table) ctx.addIssue({ code: 'custom', path: ['table'], message: "disposition 'cdc' follows a table" });
    }
    for (const key of ['slot', 'publication', 'current'] as const)
      if (s[key] !== undefined && s.disposition !== 'cdc') ctx.addIssue({ code: 'custom', path: [key], message: `${key} is for disposition 'cdc'` });
    for (const key of ['primaryKey', 'softDelete'] as const)
      if (s[key] !== undefined && s.disposition !== 'merge' && !(key === 'primaryKey' && s.disposition === 'cdc'))
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} is for disposition 'merge'` });
  });
export type SqlSourceConfig = z.infer<typeof sqlSourceSchema>;
