import { setTimeout as sleep } from 'node:timers/promises';
import { TributaryError, errorMessage } from '../../errors.js';
import { stringifyJson } from '../../util/lossless-json.js';

/**
 * The HTTP side of an HTTP source, on Node's fetch (undici): timeouts, retries with exponential backoff and full
 * jitter on network errors, 408, 429 and 5xx (honouring `Retry-After`), a client-side rate limit and concurrency
 * limit shared by the source's resources, and a circuit that stops the run after too many failures in a row.
 * Secrets are masked (`***`) in everything it reports.
 */

export interface HttpClientOptions {
  /** `sources.<name>`, for errors. */
  where: string;
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  delayMs: number;
  maxDelayMs: number;
  /** Requests started per second at most (undefined: no limit). */
  rateLimit?: number;
  concurrency: number;
  /** Failed attempts in a row that open the circuit. */
  circuitBreaker: number;
  maxResponseBytes: number;
  /** Values never shown: tokens, keys, passwords. */
  secrets: string[];
  /** Query parameters whose values are masked in URLs (an API key sent in the query). */
  secretParams: string[];
  /** Headers (lower case) that carry credentials: not sent on when a redirect leaves the API's origin. */
  authHeaders: string[];
  /** Sleeps (tests shorten them); default: timers. */
  sleep?: (ms: number) => Promise<void>;
}

export interface HttpRequest {
  /** Who asks, for errors (`sources.x.resources.y`; default: the source). */
  where?: string;
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: unknown;
}

export interface HttpResponse {
  /** The URL fetched, secrets masked. */
  url: string;
  status: number;
  /** The response's headers, secrets masked (`set-cookie` too): what is stored and shown. */
  headers: Record<string, string>;
  /** The headers as received, for the paginator (a `Link` header may carry the API key). */
  rawHeaders: Record<string, string>;
  /** The body as received (not masked: callers mask what they store or show). */
  body: string;
  fetchedAt: Date;
  /** Attempts it took (1: no retry). */
  attempts: number;
}

/** An answer that is not a success and will not become one by asking again: a 4xx other than 408 and 429. */
export class HttpStatusError extends TributaryError {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
  ) {
    super('INGEST_FAILED', message);
  }
}

const RETRIED_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export class HttpClient {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private nextStart = 0;
  private failuresInARow = 0;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Requests made, attempts included, for reports and metrics. */
  requests = 0;
  retried = 0;

  constructor(readonly options: HttpClientOptions) {
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  /** A text with every secret replaced by `***`, and secret query parameters masked. */
  mask(text: string): string {
    let out = text;
    for (const secret of this.options.secrets) if (secret.length >= 3) out = out.split(secret).join('***');
    for (const param of this.options.secretParams) {
      out = out.replace(new RegExp(`([?&]${param.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}=)[^&#\\s<>"',;]*`, 'g'), '$1***');
    }
    return out;
  }

  /** Fetches one URL, retrying what can be retried; throws HttpStatusError for a refusal, SOURCE_UNAVAILABLE else. */
  async fetch(request: HttpRequest): Promise<HttpResponse> {
    await this.acquire();
    try {
      return await this.withRetries(request);
    } finally {
      this.release();
    }
  }

  private async withRetries(request: HttpRequest): Promise<HttpResponse> {
    const shown = this.mask(request.url.toString());
    const where = request.where ?? this.options.where;
    const { retries, delayMs, maxDelayMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      await this.pace();
      this.requests++;
      let failure: string;
      let retryAfter: number | undefined;
      try {
        const response = await this.once(request);
        if (response.status < 400) {
          this.failuresInARow = 0;
          return { ...response, url: shown, attempts: attempt + 1 };
        }
        if (!RETRIED_STATUS.has(response.status)) {
          // Refused: asking again will not help. The API answered, so the circuit does not count it.
          this.failuresInARow = 0;
          throw new HttpStatusError(
            `${where}: ${request.method} ${shown} answered ${response.status}: ${snippet(this.mask(response.body))}`,
            response.status,
            shown,
          );
        }
        failure = `answered ${response.status}${response.body ? `: ${snippet(this.mask(response.body))}` : ''}`;
        retryAfter = parseRetryAfter(response.headers['retry-after']);
      } catch (err) {
        if (err instanceof TributaryError) throw err;
        // A request that cannot be made (a URL fetch refuses) is not a network failure: asking again will not help.
        if (err instanceof TypeError && err.message !== 'fetch failed' && err.message !== 'terminated' && !(err as { cause?: unknown }).cause) {
          throw new TributaryError('INGEST_FAILED', `${where}: ${request.method} ${shown} cannot be requested: ${this.mask(maskCredentials(err.message))}`);
        }
        failure = this.mask(maskCredentials(describeNetworkError(err, this.options.timeoutMs)));
      }
      this.failuresInARow++;
      if (this.failuresInARow >= this.options.circuitBreaker) {
        throw new TributaryError(
          'SOURCE_UNAVAILABLE',
          `${where}: stopped after ${this.failuresInARow} failed requests in a row (circuit open); the last, ${request.method} ${shown}, ${failure}`,
          { hint: 'the API looks down: nothing of the failing resources was committed; the next run asks again' },
        );
      }
      if (attempt >= retries) {
        throw new TributaryError('SOURCE_UNAVAILABLE', `${where}: ${request.method} ${shown} ${failure} (${attempt + 1} attempt(s))`, {
          hint: 'retries are set by retry.attempts, retry.delay and retry.maxDelay',
        });
      }
      if (retryAfter !== undefined && retryAfter > maxDelayMs) {
        throw new TributaryError(
          'SOURCE_UNAVAILABLE',
          `${where}: ${request.method} ${shown} ${failure}, asking to retry after ${Math.ceil(retryAfter / 1000)} s, beyond retry.maxDelay (${Math.ceil(maxDelayMs / 1000)} s)`,
        );
      }
      // Full jitter (AWS's "exponential backoff and jitter"): a random wait up to the exponential bound, so that
      // clients failing together do not retry together; at least what Retry-After asks.
      const bound = Math.min(maxDelayMs, delayMs * 2 ** attempt);
      const wait = Math.max(retryAfter ?? 0, Math.random() * bound);
      this.retried++;
      await this.sleep(wait);
    }
  }

  /** One attempt: the status, headers and whole body within the timeout (a body cut short is a network error). */
  private async once(request: HttpRequest): Promise<Omit<HttpResponse, 'url' | 'attempts'>> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    let body: string | undefined;
    if (request.body !== undefined) {
      body = stringifyJson(request.body);
      headers['content-type'] ??= 'application/json';
    }
    // Redirects are followed here, not by fetch: credentials are not sent on to another origin (fetch only drops
    // `authorization`, not an API key header), and a 303 becomes a GET.
    let url = request.url;
    let method: string = request.method;
    let response: Response;
    for (let hops = 0; ; hops++) {
      response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal, redirect: 'manual' });
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) break;
      await response.body?.cancel().catch(() => undefined);
      if (hops >= 5) throw new TypeError(`more than 5 redirects (the last to ${location})`);
      const next = new URL(location, url);
      if (next.origin !== request.url.origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !this.options.authHeaders.includes(k.toLowerCase())));
        for (const p of this.options.secretParams) next.searchParams.delete(p);
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    if (length > this.options.maxResponseBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new TributaryError(
        'INGEST_FAILED',
        `${this.options.where}: ${this.mask(request.url.toString())}: the response is ${length} bytes, more than maxResponseBytes (${this.options.maxResponseBytes})`,
        { hint: 'raise maxResponseBytes, or ask for smaller pages' },
      );
    }
    const text = await readBody(
      response,
      this.options.maxResponseBytes,
      () =>
        new TributaryError(
          'INGEST_FAILED',
          `${this.options.where}: ${this.mask(request.url.toString())}: the response is more than maxResponseBytes (${this.options.maxResponseBytes}) bytes`,
          { hint: 'raise maxResponseBytes, or ask for smaller pages' },
        ),
    );
    const out: Record<string, string> = {};
    const raw: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      raw[key] = value;
      out[key] = key === 'set-cookie' ? '***' : this.mask(value);
    });
    return { status: response.status, headers: out, rawHeaders: raw, body: text, fetchedAt: new Date() };
  }

  /** Waits for the rate limit: request starts are spaced by 1/rateLimit seconds. */
  private async pace(): Promise<void> {
    if (!this.options.rateLimit) return;
    const interval = 1000 / this.options.rateLimit;
    const now = Date.now();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + interval;
    if (start > now) await sleep(start - now);
  }

  private async acquire(): Promise<void> {
    if (this.inFlight < this.options.concurrency) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

async function readBody(response: Response, max: number, tooLarge: () => Error): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The first 200 characters of a body, on one line. */
export function snippet(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line || '(empty body)';
}

/** A URL's user and password (`//user:secret@host`) masked, wherever it appears in a text. */
export function maskCredentials(text: string): string {
  return text.replace(/\/\/([^/@\s:]*):[^/@\s]*@/g, '//$1:***@');
}

/** `Retry-After`: seconds, or an HTTP date; milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `did not answer within ${timeoutMs} ms (timeout)`;
  const cause = e?.cause;
  if (cause?.code) return `failed: ${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  const message = errorMessage(err);
  return `failed: ${message === 'terminated' ? 'the connection closed before the end of the body' : message}`;
}
