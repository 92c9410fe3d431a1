import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

/**
 * A real HTTP server for the HTTP source's tests, misbehaving on purpose: every pagination style, 429 with
 * Retry-After, 503 bursts, answers slower than a timeout, bodies cut short, HTML error pages, a cursor that repeats,
 * auth. Routes are set per test; `hits` counts requests per path.
 */
export interface TestApi {
  url: string;
  /** Requests per path (query excluded), and each request's URL and headers. */
  hits: Map<string, number>;
  requests: { path: string; url: string; headers: http.IncomingHttpHeaders; at: number }[];
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, ctx: { query: URLSearchParams; hit: number; body: string }) => void | Promise<void>;

export function json(res: http.ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startTestApi(): Promise<TestApi> {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const requests: TestApi['requests'] = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const hit = (hits.get(url.pathname) ?? 0) + 1;
    hits.set(url.pathname, hit);
    requests.push({ path: url.pathname, url: req.url ?? '/', headers: req.headers, at: Date.now() });
    const handler = routes.get(url.pathname) ?? [...routes.entries()].find(([p]) => p.endsWith('*') && url.pathname.startsWith(p.slice(0, -1)))?.[1];
    if (!handler) return json(res, { error: `no route ${url.pathname}` }, 404);
    try {
      await handler(req, res, { query: url.searchParams, hit, body: Buffer.concat(chunks).toString('utf8') });
    } catch (err) {
      if (!res.headersSent) json(res, { error: String(err) }, 500);
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const api: TestApi = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    requests,
    route: (path, handler) => {
      routes.set(path, handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  afterAll(() => api.close());
  return api;
}

/** `n` items `{ id, name, updated_at }`, ids from 1. */
export function items(n: number, from = 1): { id: number; name: string; updated_at: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: from + i,
    name: `item ${from + i}`,
    updated_at: new Date(Date.UTC(2024, 0, 1) + (from + i) * 60_000).toISOString(),
  }));
}
