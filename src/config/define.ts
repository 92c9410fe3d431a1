import type { FileSourceConfig, TributaryConfig } from './types.js';

/** Identity function that gives a config file types and editor completion (the Vite/Vitest pattern). */
export function defineConfig(config: TributaryConfig): TributaryConfig {
  return config;
}

/** Declare a file source: files matching `glob` are ingested into the table `into`. */
export function files(options: Omit<FileSourceConfig, 'kind'>): FileSourceConfig {
  return { kind: 'files', ...options };
}
