import { z } from 'zod';

/** The `engine` setting: DuckDB's resources. */
export const engineSettingsSchema = z.strictObject({
  threads: z.number().int().positive().optional(),
  /** DuckDB memory limit, e.g. '2GB'. */
  memoryLimit: z.string().optional(),
});
export type EngineSettings = z.infer<typeof engineSettingsSchema>;
