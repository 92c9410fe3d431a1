import { z } from 'zod';
import { tableNameSchema } from '../lake/table-name.js';

const columns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** The `store` setting: gold tables upserted into PostgreSQL by key (`tributary sync`). */
export const storeSettingsSchema = z.strictObject({
  /** postgres://… URL; `?schema=` picks the schema (default 'public'). */
  url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
  /**
   * Table → key column(s) of the rows synced, the target table's name, and `indexes` (columns, or lists of columns)
   * created beside the ones made for the API's declared dimensions and time column of the table.
   */
  tables: z.record(
    tableNameSchema,
    z.strictObject({
      key: columns,
      target: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .optional(),
      indexes: z.array(columns).optional(),
      /**
       * `upsert` (default): the store's table mirrors the lake table (rows upserted by key, keys that left deleted or
       * flagged). `append`: a history — rows of new keys are inserted, rows already there are never changed or
       * deleted (the key is the history's, e.g. `[asset_id, ingestion_timestamp]`); only files added since the last
       * sync are read when the lake table only grew.
       */
      mode: z.enum(['upsert', 'append']).optional(),
    }),
  ),
  /** What happens to rows whose key left the source: 'delete' (default) or 'flag' (a `_deleted` column set true). */
  onDelete: z.enum(['delete', 'flag']).optional(),
});
export type StoreSettings = z.infer<typeof storeSettingsSchema>;
