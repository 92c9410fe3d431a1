import { plain } from '../../util/lossless-json.js';

/**
 * The small JSON paths an HTTP source's config uses: `data`, `results[*]`, `$.data.items`, `meta.next_cursor`,
 * `items[0].id`, `$` (the whole body). Not JSONPath's filters or recursion: a path names one place.
 */

type Step = { key: string } | { index: number } | { all: true };

function steps(path: string): Step[] {
  const out: Step[] = [];
  const text = path.trim().replace(/^\$\.?/, '');
  for (const part of text.match(/[^.[\]]+|\[[^\]]*\]/g) ?? []) {
    if (part === '[*]') out.push({ all: true });
    else if (/^\[\d+\]$/.test(part)) out.push({ index: Number(part.slice(1, -1)) });
    else if (/^\[(['"]).*\1\]$/.test(part)) out.push({ key: part.slice(2, -2) });
    else out.push({ key: part });
  }
  return out;
}

/** The value at `path`, or undefined when the path leads nowhere. `[*]` keeps the list (records are its items). */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const step of steps(path)) {
    if ('all' in step) {
      if (!Array.isArray(current)) return undefined;
      continue;
    }
    if (current === null || typeof current !== 'object') return undefined;
    if ('index' in step) {
      if (!Array.isArray(current)) return undefined;
      current = current[step.index];
    } else {
      if (Array.isArray(current)) return undefined;
      current = (current as Record<string, unknown>)[step.key];
    }
    if (current === undefined) return undefined;
  }
  return current;
}

const DEFAULT_LISTS = ['data', 'results', 'items', 'records'];

/**
 * The records of a response body: the list at `path` (a single object is one record), or, without a path, the body
 * if it is a list, else its `data`/`results`/`items`/`records` list, else the body as one record. Undefined: the
 * path finds nothing (or something that is not a record), which quarantines the response.
 */
export function selectRecords(body: unknown, path: string | undefined): unknown[] | undefined {
  if (path === undefined) {
    if (Array.isArray(body)) return body;
    if (body !== null && typeof body === 'object') {
      for (const key of DEFAULT_LISTS) {
        const list = (body as Record<string, unknown>)[key];
        if (Array.isArray(list)) return list;
      }
      return [body];
    }
    return undefined;
  }
  const found = valueAt(body, path);
  if (Array.isArray(found)) return found;
  if (found !== null && typeof found === 'object') return [found];
  return undefined;
}

/** A placeholder's value as text in a URL or a body: strings as they are, other values as JSON. */
function text(value: unknown): string {
  const v = plain(value);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A field of a parent's row: kept under its dotted name (`owner.login`), or found along the path. */
export function lookup(vars: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(vars, name) ? vars[name] : valueAt(vars, name);
}

/**
 * Fills `{field}` (a field of `vars`, dotted paths allowed) and `{$cursor}` in a template. A placeholder with no
 * value is an error naming it, thrown by the caller from `missing`.
 */
export function fill(template: string, vars: Record<string, unknown>, missing: (name: string) => never, encode = false): string {
  return template.replace(/\{(\$?[A-Za-z_][A-Za-z0-9_.]*)\}/g, (_, name: string) => {
    const value = name.startsWith('$') ? vars[name] : lookup(vars, name);
    if (value === undefined || value === null) return missing(name);
    return encode ? encodeURIComponent(text(value)) : text(value);
  });
}

/** Placeholders filled in every string of a JSON body. */
export function fillDeep(value: unknown, vars: Record<string, unknown>, missing: (name: string) => never): unknown {
  if (typeof value === 'string') {
    // A string that is one placeholder takes the value's own type (a number stays a number).
    const whole = /^\{(\$?[A-Za-z_][A-Za-z0-9_.]*)\}$/.exec(value);
    if (whole) {
      const v = whole[1]!.startsWith('$') ? vars[whole[1]!] : lookup(vars, whole[1]!);
      if (v === undefined || v === null) return missing(whole[1]!);
      return v;
    }
    return fill(value, vars, missing);
  }
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, vars, missing));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, vars, missing)]));
  return value;
}

/** The placeholders a template uses. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{(\$?[A-Za-z_][A-Za-z0-9_.]*)\}/g)].map((m) => m[1]!);
}
