import { z } from 'zod';

/** The `lake` setting and the per-table `tables` setting. */

export const retentionSchema = z.strictObject({
  /** Snapshots younger than this many days are kept for time travel (default 7). */
  snapshotDays: z.number().nonnegative().optional(),
  /** At least this many most recent snapshots are kept per table, whatever their age (default 1). */
  keepLast: z.number().int().min(1).optional(),
  /** Files no snapshot references are deleted only once older than this (default 60), so in-flight writes survive. */
  orphanMinutes: z.number().nonnegative().optional(),
});
export type RetentionSettings = z.infer<typeof retentionSchema>;

export const lakeSettingsSchema = z.strictObject({
  /** Where data files live: a folder (default './lake') or a URL of a registered storage (`s3://bucket/prefix`). */
  path: z.string().min(1).optional(),
  retention: retentionSchema.optional(),
  /** Compaction merges files smaller than this (default 64 MB). */
  smallFileMB: z.number().positive().optional(),
  /**
   * The storage adapter's own settings, for a lake at a URL: for `s3://`, `{ endpoint, region, forcePathStyle,
   * accessKeyId, secretAccessKey, sessionToken, cacheMB }` (`${ENV}` welcome; without credentials, the AWS chain).
   */
  storage: z.record(z.string(), z.unknown()).optional(),
  /**
   * Publish every table as an Apache Iceberg table (metadata under `<layer>/<table>/metadata/`) after each commit
   * (default true), for Spark, Trino, Flink… with a path-based catalog at the lake root (docs/iceberg.md).
   */
  iceberg: z.boolean().optional(),
});
export type LakeSettings = z.infer<typeof lakeSettingsSchema>;

export const partitionGranularitySchema = z.enum(['day', 'month', 'year']);
export type PartitionGranularity = z.infer<typeof partitionGranularitySchema>;

/** What an ingested batch may change in its table's schema (sources/schema-contract.ts, docs/contracts.md). */
export const schemaContractSchema = z.strictObject({
  /** A column the table does not have: 'evolve' (add it), 'freeze' (refuse), 'discard_value' (drop it), 'discard_row' (set the row aside). */
  columns: z.enum(['evolve', 'freeze', 'discard_row', 'discard_value']).optional(),
  /** A value of another type: 'freeze' (refuse, the default), 'evolve' (widen without loss), 'discard_row' (set the row aside). */
  types: z.enum(['evolve', 'freeze', 'discard_row']).optional(),
});
export type SchemaContract = z.infer<typeof schemaContractSchema>;

export const tableConfigSchema = z.strictObject({
  /** Hidden date partitioning: files are laid out per day/month/year of this column. */
  partitionBy: z.strictObject({ column: z.string().min(1), granularity: partitionGranularitySchema.optional() }).optional(),
  /**
   * The table's columns from a contract (`contracts/<name>.avsc` or `.json`, relative to the project): ingestion reads
   * with its types and refuses other columns unless \`schemaContract.columns\` says otherwise, and the API's row schema
   * takes its descriptions, enums and nullability.
   */
  contract: z.string().min(1).optional(),
  /** The table's schema contract for every source that writes it (a source's own \`schemaContract\` wins). */
  schemaContract: schemaContractSchema.optional(),
});
export type TableConfig = z.infer<typeof tableConfigSchema>;
