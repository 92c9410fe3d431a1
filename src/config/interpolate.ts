import { TributaryError } from '../errors.js';

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}`; an unset variable without default is an error naming `where`. */
export function interpolate(value: string, where: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(PATTERN, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    throw new TributaryError('ENV_MISSING', `${where}: environment variable ${name} is not set and has no default`, {
      hint: `set ${name} or write \${${name}:-default}`,
    });
  });
}

/** Interpolates every string inside a plain JSON-like value, reporting the key path on error. */
export function interpolateDeep<T>(value: T, where: string, env: NodeJS.ProcessEnv = process.env): T {
  if (typeof value === 'string') return interpolate(value, where, env) as T;
  if (Array.isArray(value)) return value.map((v, i) => interpolateDeep(v, `${where}[${i}]`, env)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateDeep(v, where ? `${where}.${k}` : k, env);
    return out as T;
  }
  return value;
}
