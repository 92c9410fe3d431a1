import { createRequire } from 'node:module';

/** The package's version, from package.json (one source for `--version` and the OpenAPI document). */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
