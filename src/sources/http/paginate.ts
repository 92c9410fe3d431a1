import type { PaginateConfig } from './config.js';
import { valueAt } from './select.js';

/** One page's request: the URL (without the query parameters below) and the query parameters. */
export interface PageRequest {
  url: URL;
  params: Record<string, string>;
  /** Where the paginator is: the offset, page number or cursor sent. */
  position?: number | string;
}

/** What a page said, for the paginator to find the next. */
export interface PageSeen {
  body: unknown;
  headers: Record<string, string>;
  /** Records the page held (before incremental filtering). */
  records: number;
  /** The URL fetched, with its query. */
  url: URL;
}

/** The first page's request. */
export function firstPage(paginate: PaginateConfig | undefined, url: URL, params: Record<string, string>): PageRequest {
  switch (paginate?.type) {
    case 'offset': {
      const offset = paginate.start ?? 0;
      return {
        url,
        params: { ...params, [paginate.offsetParam ?? 'offset']: String(offset), [paginate.limitParam ?? 'limit']: String(paginate.limit) },
        position: offset,
      };
    }
    case 'page': {
      const page = paginate.start ?? 1;
      return {
        url,
        params: {
          ...params,
          [paginate.param ?? 'page']: String(page),
          ...(paginate.size ? { [paginate.sizeParam ?? 'per_page']: String(paginate.size) } : {}),
        },
        position: page,
      };
    }
    default:
      return { url, params };
  }
}

/**
 * The request after `current`, from what its page said; undefined when it was the last page. An empty page always
 * ends (checked by the caller). `fail` reports a body that does not say what the paginator needs.
 */
export function nextPage(
  paginate: PaginateConfig | undefined,
  current: PageRequest,
  page: PageSeen,
  fail: (message: string) => never,
): PageRequest | undefined {
  switch (paginate?.type) {
    case undefined:
    case 'none':
      return undefined;
    case 'offset': {
      const offset = Number(current.position) + page.records;
      if (paginate.total !== undefined) {
        const total = numberAt(page.body, paginate.total, fail);
        if (total !== undefined && offset >= total) return undefined;
      }
      return { url: current.url, params: { ...current.params, [paginate.offsetParam ?? 'offset']: String(offset) }, position: offset };
    }
    case 'page': {
      const pageNumber = Number(current.position);
      if (paginate.total !== undefined) {
        const total = numberAt(page.body, paginate.total, fail);
        if (total !== undefined && pageNumber - (paginate.start ?? 1) + 1 >= total) return undefined;
      }
      return { url: current.url, params: { ...current.params, [paginate.param ?? 'page']: String(pageNumber + 1) }, position: pageNumber + 1 };
    }
    case 'cursor': {
      const cursor = valueAt(page.body, paginate.cursor);
      if (cursor === undefined || cursor === null || cursor === '' || cursor === false) return undefined;
      if (typeof cursor === 'object') fail(`paginate.cursor: ${paginate.cursor} holds ${JSON.stringify(cursor).slice(0, 80)}, not a cursor value`);
      return { url: current.url, params: { ...current.params, [paginate.param]: String(cursor) }, position: String(cursor) };
    }
    case 'next': {
      const next = valueAt(page.body, paginate.next);
      if (next === undefined || next === null || next === '' || next === false) return undefined;
      if (typeof next !== 'string') fail(`paginate.next: ${paginate.next} holds ${JSON.stringify(next).slice(0, 80)}, not a URL`);
      return fromUrl(next as string, page.url);
    }
    case 'link': {
      const next = linkNext(page.headers.link);
      return next === undefined ? undefined : fromUrl(next, page.url);
    }
  }
}

/** A next URL as given (absolute, or relative to the page fetched): its query is the next request's parameters. */
function fromUrl(next: string, base: URL): PageRequest {
  const url = new URL(next, base);
  const params: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    params[k] = v;
  });
  url.search = '';
  return { url, params, position: next };
}

function numberAt(body: unknown, path: string, fail: (message: string) => never): number | undefined {
  const value = valueAt(body, path);
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return fail(`paginate.total: ${path} holds ${JSON.stringify(value).slice(0, 80)}, not a number`);
  return n;
}

/** The `rel="next"` target of an RFC 8288 Link header (`<https://…?page=2>; rel="next", <…>; rel="last"`). */
export function linkNext(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const link of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(link);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2]!);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return match[1];
  }
  return undefined;
}
