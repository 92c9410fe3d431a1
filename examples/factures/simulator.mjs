#!/usr/bin/env node
// Local stand-ins for the two public APIs seed 000 calls, on one port:
//   GET /api/v2/products?_quantity=1000&_locale=fr_FR[&_seed=42]   FakerAPI v2's products
//   GET /v3.1/alpha?codes=FR,DE&fields=cca2,region,subregion,currencies   REST Countries v3.1
//   node examples/factures/simulator.mjs [--port 8766]
// Products are a pure function of `_seed` (without it, of the request's number), so that tests can recompute what
// was served. Countries come from data/countries.json (mledoze/countries, ODbL: see data/SOURCES.md).
// For tests and demos: POST /_control {"down": "countries"} (that API answers 503 until {"down": null}),
// {"down": "products"}; GET /_served lists the requests answered.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const COUNTRIES = JSON.parse(readFileSync(fileURLToPath(new URL('data/countries.json', import.meta.url)), 'utf8'));

// Mulberry32: a small PRNG whose sequence depends on its seed alone (load.mjs draws its invoices with it too).
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'lorem ipsum dolor sit amet consectetur adipisci velit sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat ' +
  'voluptatem enim ad minima veniam quis nostrum exercitationem ullam corporis suscipit laboriosam nisi aliquid ex ea commodi consequatur'
).split(' ');

function sentence(next, words) {
  const picked = Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]);
  const text = picked.join(' ');
  return `${text[0].toUpperCase()}${text.slice(1)}.`;
}

/** An EAN-13 with its check digit. */
function ean(next) {
  const digits = Array.from({ length: 12 }, () => Math.floor(next() * 10));
  const sum = digits.reduce((s, d, i) => s + d * (i % 2 ? 3 : 1), 0);
  return `${digits.join('')}${(10 - (sum % 10)) % 10}`;
}

/** FakerAPI's product: prices as FakerAPI gives them, large numbers with two decimals (seed 000's data shows them). */
export function products(quantity, seed) {
  const next = random(seed);
  return Array.from({ length: quantity }, (_, i) => {
    const netPrice = Math.round(next() * 1_000_000_000_00) / 100;
    const taxes = 20;
    return {
      id: i + 1,
      name: sentence(next, 3 + Math.floor(next() * 4)),
      description: sentence(next, 12 + Math.floor(next() * 20)),
      ean: ean(next),
      upc: ean(next).slice(1),
      image: 'http://placeimg.com/640/480/tech',
      images: [{ title: sentence(next, 2), description: sentence(next, 6), url: 'http://placeimg.com/640/480/tech' }],
      net_price: netPrice,
      taxes,
      price: Math.round(netPrice * (1 + taxes / 100) * 100) / 100,
      categories: [1 + Math.floor(next() * 9)],
      tags: [WORDS[Math.floor(next() * WORDS.length)]],
    };
  });
}

/** REST Countries v3.1's `alpha?codes=`: the countries whose cca2, cca3, ccn3 or cioc is among the codes. */
export function countriesByCodes(codes, fields) {
  const wanted = new Set(codes.map((c) => c.trim().toUpperCase()).filter(Boolean));
  const found = COUNTRIES.filter((c) => wanted.has(c.cca2) || wanted.has(c.cca3) || wanted.has(c.ccn3) || (c.cioc && wanted.has(c.cioc)));
  if (!fields.length) return found;
  return found.map((c) => Object.fromEntries(fields.filter((f) => f in c).map((f) => [f, c[f]])));
}

export function createSimulator() {
  const served = [];
  const state = { down: null, requests: 0 };
  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/_control' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const change = JSON.parse(body || '{}');
        if ('down' in change) state.down = change.down;
        send(res, 200, state);
      });
      return;
    }
    if (url.pathname === '/_served') return send(res, 200, served);
    if (url.pathname === '/api/v2/products') {
      if (state.down === 'products') return send(res, 503, { status: 'Service Unavailable', code: 503 });
      const quantity = Math.min(1000, Math.max(1, Number(url.searchParams.get('_quantity') ?? 10) || 10));
      const seedParam = url.searchParams.get('_seed');
      const seed = seedParam === null ? ++state.requests : Number(seedParam);
      const data = products(quantity, seed);
      served.push({ path: url.pathname, query: url.search, seed, count: data.length });
      return send(res, 200, { status: 'OK', code: 200, locale: url.searchParams.get('_locale') ?? 'en_US', seed: seedParam, total: data.length, data });
    }
    if (url.pathname === '/v3.1/alpha') {
      if (state.down === 'countries') return send(res, 503, { status: 503, message: 'Service Unavailable' });
      const codes = (url.searchParams.get('codes') ?? '').split(',');
      const fields = (url.searchParams.get('fields') ?? '').split(',').filter(Boolean);
      const found = countriesByCodes(codes, fields);
      served.push({ path: url.pathname, query: url.search, count: found.length });
      // As REST Countries: a 404 when none of the codes is known.
      if (found.length === 0) return send(res, 404, { status: 404, message: 'Not Found' });
      return send(res, 200, found);
    }
    send(res, 404, { status: 404, message: 'Not Found' });
  });
  return { server, served, state };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--port');
  const port = at > 0 ? Number(process.argv[at + 1]) : 8766;
  const { server } = createSimulator();
  server.listen(port, '127.0.0.1', () => {
    console.log(`FakerAPI on http://127.0.0.1:${port}/api/v2/products, REST Countries on http://127.0.0.1:${port}/v3.1/alpha (Ctrl-C stops)`);
  });
}
