// Config types of the kinds the recipe tests add (test/source-kinds.test.ts, test/check-kinds.test.ts), merged into
// the config's open unions as a kind's own folder would do. Exported: the config's declared types name them.

export interface MemorySourceConfig {
  kind: 'memory';
  into: string;
  /** The in-memory table read. */
  table: string;
  batchSize?: number;
}

export interface MaxLength {
  kind: 'max_length';
  column: string;
  max: number;
}

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
