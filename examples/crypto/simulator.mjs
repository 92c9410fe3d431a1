#!/usr/bin/env node
// A small, deterministic simulator of the CoinCap v2 API that seed 004 polls (https://docs.coincap.io, v2):
//   GET /v2/assets?limit&offset              the assets by rank, every number as a string, as CoinCap gives them
//   GET /v2/assets/{id}/history?interval=m1&start&end    one price per minute in [start, end) (ms since the epoch)
// Prices move every 10 seconds and are a pure function of the asset and the time, so the history of any minute can
// be asked for later (how gaps are backfilled) and a test can recompute everything that was served.
// For tests and demos (not CoinCap's):
//   POST /_control {"down": true} answers 503 until {"down": false}; {"advance": ms} moves the clock forward;
//   {"crash": 0.8} multiplies bitcoin's price from now on (a crash for the alert); GET /_served lists what was served.
//
//   node examples/crypto/simulator.mjs [--port 8765]
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const ASSETS = [
  ['bitcoin', 'BTC', 'Bitcoin', 64000, 19_700_000, 21_000_000],
  ['ethereum', 'ETH', 'Ethereum', 3400, 120_200_000, null],
  ['tether', 'USDT', 'Tether', 1, 110_000_000_000, null],
  ['binance-coin', 'BNB', 'BNB', 580, 153_000_000, 200_000_000],
  ['solana', 'SOL', 'Solana', 150, 460_000_000, null],
  ['xrp', 'XRP', 'XRP', 0.52, 55_000_000_000, 100_000_000_000],
  ['usd-coin', 'USDC', 'USDC', 1, 33_000_000_000, null],
  ['cardano', 'ADA', 'Cardano', 0.45, 35_000_000_000, 45_000_000_000],
  ['dogecoin', 'DOGE', 'Dogecoin', 0.15, 144_000_000_000, null],
  ['tron', 'TRX', 'TRON', 0.12, 87_000_000_000, null],
];

const TICK = 10_000;
const DAY = 86_400_000;

/** A number in [-1, 1) from integers, the same every time (a 32-bit integer hash). */
function noise(a, b) {
  let h = Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 31 - 1;
}

/** The simulator: its clock, its state, the server. */
export function createSimulator() {
  let offset = 0;
  let down = false;
  let crash = 1;
  let crashFrom = Number.POSITIVE_INFINITY;
  const served = [];
  const now = () => Date.now() + offset;

  /** The price of asset `i` at time `t`: stablecoins stay near 1, others wander around their base. */
  function price(i, t) {
    const [, , , base] = ASSETS[i];
    const tick = Math.floor(t / TICK);
    const stable = base === 1;
    const wave = stable ? 0 : 0.04 * Math.sin(tick / 360 + i) + 0.02 * Math.sin(tick / 29 + 2 * i);
    const jitter = (stable ? 0.0005 : 0.004) * noise(i, tick);
    const p = base * Math.exp(wave + jitter);
    return i === 0 && t >= crashFrom ? p * crash : p;
  }
  const fixed = (x) => x.toFixed(10);

  function asset(i, t) {
    const [id, symbol, name, , supply, maxSupply] = ASSETS[i];
    const p = price(i, t);
    const before = price(i, t - DAY);
    let vwap = 0;
    for (let k = 0; k < 24; k++) vwap += price(i, t - k * 3_600_000);
    return {
      id,
      rank: '',
      symbol,
      name,
      supply: fixed(supply),
      maxSupply: maxSupply === null ? null : fixed(maxSupply),
      marketCapUsd: fixed(supply * p),
      volumeUsd24Hr: fixed(supply * p * (0.02 + 0.01 * (1 + noise(i + 100, Math.floor(t / 3_600_000))))),
      priceUsd: fixed(p),
      changePercent24Hr: fixed(((p - before) / before) * 100),
      vwap24Hr: fixed(vwap / 24),
      explorer: null,
    };
  }

  function assets(t) {
    const all = ASSETS.map((_, i) => asset(i, t)).sort((a, b) => Number(b.marketCapUsd) - Number(a.marketCapUsd));
    all.forEach((a, k) => {
      a.rank = String(k + 1);
    });
    return all;
  }

  const send = (res, status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    if (url.pathname === '/_control' && req.method === 'POST') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      if (typeof body.down === 'boolean') down = body.down;
      if (typeof body.advance === 'number') offset += body.advance;
      if (typeof body.crash === 'number') {
        crash = body.crash;
        crashFrom = now();
      }
      return send(res, 200, { now: now(), down, crash });
    }
    if (url.pathname === '/_served') return send(res, 200, served);
    if (down) return send(res, 503, { error: 'service unavailable' });
    if (url.pathname === '/' || url.pathname === '/v2') return send(res, 200, { name: 'CoinCap v2 simulator', now: now() });
    const t = now();
    if (url.pathname === '/v2/assets') {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 100), 2000);
      const skip = Number(url.searchParams.get('offset') ?? 0);
      const data = assets(t).slice(skip, skip + limit);
      served.push({ path: url.pathname, timestamp: t, data });
      return send(res, 200, { data, timestamp: t });
    }
    const history = /^\/v2\/assets\/([^/]+)\/history$/.exec(url.pathname);
    if (history) {
      const i = ASSETS.findIndex((a) => a[0] === history[1]);
      if (i < 0) return send(res, 404, { error: `${history[1]} not found` });
      if (url.searchParams.get('interval') !== 'm1') return send(res, 400, { error: 'this simulator serves interval=m1 only' });
      const end = Math.min(Number(url.searchParams.get('end') ?? t), t);
      const start = Number(url.searchParams.get('start') ?? end - DAY);
      if (!Number.isFinite(start) || !Number.isFinite(end)) return send(res, 400, { error: 'start and end are milliseconds' });
      const data = [];
      for (let m = Math.ceil(start / 60_000) * 60_000; m < end; m += 60_000) {
        data.push({ priceUsd: fixed(price(i, m)), time: m, date: new Date(m).toISOString() });
      }
      served.push({ path: url.pathname, id: history[1], timestamp: t, data });
      return send(res, 200, { data, timestamp: t });
    }
    send(res, 404, { error: `no route ${url.pathname}` });
  });
  return {
    server,
    now,
    served,
    price: (id, t) =>
      price(
        ASSETS.findIndex((a) => a[0] === id),
        t,
      ),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--port');
  const port = at > 0 ? Number(process.argv[at + 1]) : Number(process.env.PORT ?? 8765);
  const { server } = createSimulator();
  server.listen(port, '127.0.0.1', () => console.log(`CoinCap v2 simulator on http://127.0.0.1:${port}/v2 (Ctrl-C to stop)`));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
}
