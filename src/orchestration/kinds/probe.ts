import mariadb, { type ConnectionConfig } from 'mariadb';
import pg from 'pg';
import { TributaryError, errorMessage } from '../../errors.js';
import { maskCredentials } from '../../sources/http/client.js';
import { maskUrl } from '../../sources/sql/reader.js';
import { toMillis } from '../../util/duration.js';
import type { AssetKindHandler } from './kind.js';

/**
 * `probe:<name>`: checks that a system answers — an HTTP endpoint (2xx or 3xx) or a database (`SELECT 1`) — and fails
 * with what it got otherwise. The assets named in its `before` run only once it passed: seed 004's "is the API up, is
 * PostgreSQL up" tasks in front of the ingestion.
 */
export const probeAssets: AssetKindHandler = {
  kind: 'probe',
  declare: ({ config }) =>
    Object.entries(config.probes).map(([name, probe]) => ({ key: `probe:${name}`, writes: [], reads: [], ...(probe.before ? { before: probe.before } : {}) })),
  async execute(lake, name, { logger }) {
    const probe = lake.config.probes[name];
    if (!probe) throw new TributaryError('NOT_FOUND', `no probe "${name}"`, { hint: `probes: ${Object.keys(lake.config.probes).join(', ') || 'none'}` });
    const timeout = toMillis(probe.timeout ?? '10s', `probes.${name}.timeout`);
    const shown = maskQuery(maskUrl(probe.url));
    const started = Date.now();
    try {
      if (/^https?:/.test(probe.url)) {
        const response = await fetch(probe.url, { signal: AbortSignal.timeout(timeout), redirect: 'manual' });
        await response.body?.cancel().catch(() => undefined);
        if (response.status >= 400) throw new Error(`answered ${response.status} ${response.statusText}`);
      } else if (/^postgres/.test(probe.url)) {
        const client = new pg.Client({
          connectionString: probe.url,
          connectionTimeoutMillis: timeout,
          query_timeout: timeout,
          application_name: 'tributary probe',
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('SELECT 1');
        } finally {
          await client.end().catch(() => undefined);
        }
      } else {
        const connection = await mariadb.createConnection({ ...mysqlOptions(probe.url), connectTimeout: timeout });
        try {
          await connection.query('SELECT 1');
        } finally {
          await connection.end().catch(() => undefined);
        }
      }
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${timeout} ms`
          : e.cause?.code
            ? `${e.cause.code}`
            : maskQuery(maskCredentials((errorMessage(err).split('\n')[0] ?? '').split(probe.url).join(shown)));
      throw new TributaryError('SOURCE_UNAVAILABLE', `probes.${name}: ${shown} is not available: ${why}`, { cause: err });
    }
    logger.info({ url: shown, ms: Date.now() - started }, `${shown} answered`);
    return {};
  },
  describe: () => 'answered',
};

/** Values of query parameters that look like credentials (`api_key`, `token`, `sig`…) masked. */
function maskQuery(url: string): string {
  return url.replace(/([?&][^=&#]*(?:key|token|secret|password|passwd|pwd|auth|sig|signature|credential)[^=&#]*=)[^&#\s]*/gi, '$1***');
}

function mysqlOptions(url: string): ConnectionConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    ...(u.pathname.length > 1 ? { database: decodeURIComponent(u.pathname.slice(1)) } : {}),
  };
}
