import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TributaryError } from '../src/errors.js';
import { interpolate, interpolateDeep } from '../src/config/interpolate.js';
import { loadConfig, resolveConfig } from '../src/config/load.js';
import { tempDir } from './support/helpers.js';

describe('config', () => {
  it('interpolates ${VAR} and ${VAR:-default}, and names the key of a missing variable', () => {
    const env = { DATA: '/data', EMPTY: '' };
    expect(interpolate('${DATA}/x', 'k', env)).toBe('/data/x');
    expect(interpolate('${NOPE:-dflt}/x', 'k', env)).toBe('dflt/x');
    expect(interpolate('${EMPTY:-dflt}', 'k', env)).toBe('dflt');
    expect(() => interpolate('${NOPE}', 'sources.a.glob', env)).toThrow(/sources\.a\.glob: environment variable NOPE is not set/);
    expect(interpolateDeep({ a: ['${DATA}'], b: 1 }, '', env)).toEqual({ a: ['/data'], b: 1 });
  });

  it('resolves defaults, the embedded catalog and PostgreSQL URLs with a schema', () => {
    const dir = tempDir();
    const config = resolveConfig({}, dir, undefined);
    expect(config.lakePath).toBe(path.join(dir, 'lake'));
    expect(config.catalog).toEqual({ kind: 'embedded', path: path.join(dir, 'lake/_catalog/catalog.duckdb') });
    expect(config.retention).toEqual({ snapshotDays: 7, keepLast: 1, orphanMinutes: 60 });
    const pg = resolveConfig({ catalog: 'postgres://u@h:5432/db?schema=lakehouse' }, dir, undefined);
    expect(pg.catalog).toEqual({ kind: 'postgres', url: 'postgres://u@h:5432/db', schema: 'lakehouse' });
    expect(() => resolveConfig({ catalog: 'mysql://x' }, dir, undefined)).toThrow(/catalog: "mysql:\/\/x" is neither/);
    // A relative DuckDB catalog path belongs to the project, wherever the command runs from.
    expect(resolveConfig({ catalog: 'duckdb:cat/c.duckdb' }, dir, undefined).catalog).toEqual({ kind: 'embedded', path: path.join(dir, 'cat/c.duckdb') });
    expect(() => resolveConfig({ catalog: 'postgres://u@h/db?schema=MyCat' }, dir, undefined)).toThrow(/schema "MyCat" must be a lower-case identifier/);
    expect(() => resolveConfig({ catalog: 'postgres://u:p#ss@h/db' }, dir, undefined)).toThrow(/catalog: .* is not a valid URL/);
  });

  it('reports the path of an invalid setting', () => {
    const dir = tempDir();
    expect(() => resolveConfig({ sources: { a: { kind: 'files', glob: 'x', into: 'nolayer' } } }, dir, undefined)).toThrow(
      /sources\.a\.into: expected a table name layer\.table/,
    );
    expect(() => resolveConfig({ lake: { pathh: 'x' } } as never, dir, undefined)).toThrow(/lake: Unrecognized key/);
  });

  it('loads tributary.config.ts importing from "tributary-data" (or the older "tributary"), with interpolation', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'tributary.config.ts'),
      `import { defineConfig, files } from 'tributary-data';\nexport default defineConfig({ lake: { path: '\${LAKE_DIR:-store}' }, sources: { s: files({ glob: '*.csv', into: 'bronze.s' }) } });\n`,
    );
    const config = await loadConfig(dir);
    expect(config.lakePath).toBe(path.join(dir, 'store'));
    expect(config.sources.s).toEqual({ kind: 'files', glob: '*.csv', into: 'bronze.s' });
    writeFileSync(
      path.join(dir, 'tributary.config.ts'),
      `import { defineConfig } from 'tributary';\nexport default defineConfig({ lake: { path: 'older' } });\n`,
    );
    expect((await loadConfig(dir)).lakePath).toBe(path.join(dir, 'older'));
    // A syntax error names the file, line and column, and shows the line.
    writeFileSync(path.join(dir, 'tributary.config.ts'), `export default {\n  lake: { path: 'x' },,\n};\n`);
    const syntax = (await loadConfig(dir).then(
      () => undefined,
      (e: unknown) => e,
    )) as TributaryError;
    expect(syntax.message).toMatch(/tributary\.config\.ts:2:\d+: syntax error: /);
    expect(syntax.hint).toMatch(/lake: \{ path: 'x' \},,/);
    // An error thrown by the config's own code keeps its message.
    writeFileSync(path.join(dir, 'tributary.config.ts'), `throw new Error('no DATA_DIR set');\nexport default {};\n`);
    await expect(loadConfig(dir)).rejects.toThrow(/tributary\.config\.ts: cannot load: no DATA_DIR set/);
  });
});
