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
});
export type LakeSettings = z.infer<typeof lakeSettingsSchema>;

export const partitionGranularitySchema = z.enum(['day', 'month', 'year']);
export type PartitionGranularity = z.infer<typeof partitionGranularitySchema>;

export const tableConfigSchema = z.strictObject({
  /** Hidden date partitioning: files are laid out per day/month/year of this column. */
  partitionBy: z.strictObject({ column: z.string().min(1), granularity: partitionGranularitySchema.optional() }).optional(),
});
export type TableConfig = z.infer<typeof tableConfigSchema>;
