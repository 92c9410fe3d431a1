// Config schemas of the kinds the recipe tests add (test/source-kinds.test.ts, test/check-kinds.test.ts), their types
// inferred from them and merged into the config's open unions, as a kind's own `config.ts` would do. Exported: the
// config's types name them.
import { z } from 'zod';

export const memorySourceSchema = z.strictObject({
  kind: z.literal('memory'),
  into: z.string(),
  /** The in-memory table read. */
  table: z.string().min(1),
  batchSize: z.number().int().positive().optional(),
});
export type MemorySourceConfig = z.infer<typeof memorySourceSchema>;

export const maxLengthSchema = z.strictObject({ kind: z.literal('max_length'), column: z.string().min(1), max: z.number().int().positive() });
export type MaxLength = z.infer<typeof maxLengthSchema>;

declare module '../../src/config/types.js' {
  interface SourceKinds {
    memory: MemorySourceConfig;
  }
  interface CheckKinds {
    max_length: MaxLength;
  }
}

export interface CountingCatalogLocation {
  kind: 'counting';
  url: string;
}

declare module '../../src/config/types.js' {
  interface CatalogLocations {
    counting: CountingCatalogLocation;
  }
}
