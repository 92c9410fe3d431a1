import { isCatalogScheme } from '../catalog/backends.js';
import { localPathOf } from '../storage/local.js';
import { schemeOf } from '../storage/storage.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { TributaryError, errorMessage } from '../errors.js';
import { interpolateDeep } from './interpolate.js';
import { configSchema } from './schema.js';
import type { CatalogLocation, LogLocation, ResolvedConfig, TributaryConfig } from './types.js';

export const CONFIG_FILES = ['tributary.config.ts', 'tributary.config.mts', 'tributary.config.js', 'tributary.config.mjs'];

/** The package's name on the registry (the command is `tributary`; `tributary` on npm is someone else's package). */
export const PACKAGE_NAME = 'tributary-data';

/**
 * What `import … from 'tributary-data'` gives a config file (and `from 'tributary'`, the spelling of configs written
 * before the package had its name; it never resolves to the registry's `tributary`, which is another project): the definition helpers of this very copy (defineConfig,
 * files, checks). Not the whole library: jiti would transpile all of it (~0.8 s) for a file that needs three
 * functions; types are erased anyway.
 */
const configEntry = fileURLToPath(new URL('./define.js', import.meta.url));

export function findConfigFile(projectDir: string): string | undefined {
  for (const name of CONFIG_FILES) {
    const candidate = path.join(projectDir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Loads `<projectDir>/tributary.config.*`, interpolates `${ENV}`, validates it and applies defaults. */
export async function loadConfig(projectDir: string, options: { required?: boolean } = {}): Promise<ResolvedConfig> {
  const dir = path.resolve(projectDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new TributaryError('CONFIG_NOT_FOUND', `--project: ${dir} is not a folder`);
  }
  const file = findConfigFile(dir);
  if (!file) {
    if (options.required) {
      throw new TributaryError('CONFIG_NOT_FOUND', `no tributary.config.ts in ${dir}`, {
        hint: 'run `tributary init <dir>` or pass --project <dir>',
      });
    }
    return resolveConfig({}, dir, undefined);
  }
  let raw: unknown;
  try {
    const jiti = createJiti(import.meta.url, { alias: { [PACKAGE_NAME]: configEntry, tributary: configEntry }, moduleCache: false, fsCache: true });
    raw = await jiti.import(file, { default: true });
  } catch (err) {
    throw loadError(file, err);
  }
  return resolveConfig(raw, dir, file);
}

/**
 * A config that does not load: a syntax error names the file, line and column (the parser puts them on a later line
 * of its message) and shows the line; an error thrown by the config's own code keeps its first line.
 */
function loadError(file: string, err: unknown): TributaryError {
  const message = errorMessage(err);
  const first = message
    .split('\n')[0]!
    .replace(/^(ParseError|SyntaxError|TransformError):\s*/, '')
    .trim();
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const at = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(message) ?? /:(\d+):(\d+)\)?\s*$/m.exec(message);
  if (at && /ParseError|SyntaxError|Unexpected|Expected/i.test(message)) {
    const line = Number(at[1]);
    const column = Number(at[2]);
    let excerpt: string | undefined;
    try {
      excerpt = readFileSync(file, 'utf8').split(/\r?\n/)[line - 1];
    } catch {
      excerpt = undefined;
    }
    return new TributaryError('CONFIG_INVALID', `${file}:${line}:${column}: syntax error: ${first || 'cannot parse'}`, {
      ...(excerpt !== undefined ? { hint: `${excerpt.trim()}   ← line ${line}, column ${column}` } : {}),
      cause: err,
    });
  }
  return new TributaryError('CONFIG_INVALID', `${file}: cannot load: ${first}`, { cause: err });
}

/** Validates and resolves an in-memory config object (what loadConfig does after importing the file). */
export function resolveConfig(raw: unknown, projectDir: string, configFile: string | undefined): ResolvedConfig {
  const where = configFile ? path.basename(configFile) : 'config';
  const interpolated = interpolateDeep(raw ?? {}, '');
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length ? issue.path.join('.') : '(root)';
    throw new TributaryError('CONFIG_INVALID', `${configFile ?? where}: ${at}: ${issue.message}`);
  }
  const config: TributaryConfig = parsed.data;
  const dir = path.resolve(projectDir);
  // A lake on object storage (s3://…) keeps its local scratch (temp files, the embedded catalog) in the project.
  const configuredLake = config.lake?.path ?? 'lake';
  const remoteLake = schemeOf(configuredLake) !== 'file';
  const lakeLocation = remoteLake ? configuredLake : path.resolve(dir, localPathOf(configuredLake));
  const lakePath = remoteLake ? path.join(dir, '.tributary', 'lake') : lakeLocation;
  return {
    name: config.name ?? path.basename(dir),
    projectDir: dir,
    configFile,
    lakePath,
    lakeLocation,
    catalog: resolveCatalog(config.catalog, dir, lakePath, `${where}: catalog`),
    engine: config.engine ?? {},
    retention: {
      snapshotDays: config.lake?.retention?.snapshotDays ?? 7,
      keepLast: config.lake?.retention?.keepLast ?? 1,
      orphanMinutes: config.lake?.retention?.orphanMinutes ?? 60,
    },
    smallFileBytes: Math.round((config.lake?.smallFileMB ?? 64) * 1024 * 1024),
    iceberg: config.lake?.iceberg ?? true,
    storageOptions: config.lake?.storage ?? {},
    sources: config.sources ?? {},
    tables: config.tables ?? {},
    modelsPath: path.resolve(dir, config.models ?? 'models'),
    checks: config.checks ?? {},
    serve: config.serve ?? {},
    store: config.store,
    log: resolveLog(config.log, dir, `${where}: log`),
    registry: config.registry === undefined || config.registry === 'embedded' ? { kind: 'embedded' } : { kind: 'http', url: config.registry },
    streams: config.streams ?? {},
    jobs: config.jobs ?? {},
    sensors: config.sensors ?? {},
    probes: config.probes ?? {},
    publish: config.publish ?? {},
    automate: config.automate ?? [],
    orchestration: config.orchestration ?? {},
  };
}

export function resolveLog(value: string | undefined, projectDir: string, where: string): LogLocation {
  if (value === undefined || value === 'embedded') return { kind: 'embedded', path: path.join(projectDir, '.tributary', 'log') };
  if (value.startsWith('embedded:')) return { kind: 'embedded', path: path.resolve(projectDir, value.slice('embedded:'.length)) };
  if (value.startsWith('kafka://')) {
    const brokers = value
      .slice('kafka://'.length)
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    const bad = brokers.find((b) => !/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(b));
    if (brokers.length === 0 || bad !== undefined) {
      throw new TributaryError('CONFIG_INVALID', `${where}: "${value}": expected kafka://host:port[,host:port…]${bad ? ` ("${bad}" has no port)` : ''}`);
    }
    return { kind: 'kafka', brokers };
  }
  throw new TributaryError('CONFIG_INVALID', `${where}: "${value}" is neither 'embedded', 'embedded:<folder>' nor a kafka://host:port URL`);
}

export function resolveCatalog(value: string | undefined, projectDir: string, lakePath: string, where: string): CatalogLocation {
  if (value === undefined || value === 'embedded') return { kind: 'embedded', path: path.join(lakePath, '_catalog', 'catalog.duckdb') };
  if (/^postgres(ql)?:\/\//.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TributaryError('CONFIG_INVALID', `${where}: "${value.replace(/:[^:@/]*@/, ':***@')}" is not a valid URL`, {
        hint: 'percent-encode special characters of the password (@ → %40, # → %23)',
      });
    }
    const schema = url.searchParams.get('schema') ?? 'tributary';
    url.searchParams.delete('schema');
    // Lower case only: PostgreSQL folds unquoted names, and search_path is set unquoted.
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new TributaryError('CONFIG_INVALID', `${where}: schema "${schema}" must be a lower-case identifier (letters, digits, _)`);
    }
    return { kind: 'postgres', url: url.toString(), schema };
  }
  if (value.startsWith('duckdb:')) return { kind: 'embedded', path: path.resolve(projectDir, value.slice('duckdb:'.length)) };
  const scheme = schemeOf(value);
  // A registered backend gets its URL as it is: checking it is the backend's business.
  if (isCatalogScheme(scheme)) return { kind: scheme, url: value } as unknown as CatalogLocation;
  throw new TributaryError('CONFIG_INVALID', `${where}: "${value}" is neither 'embedded', 'duckdb:<file>' nor a postgres:// URL`);
}
