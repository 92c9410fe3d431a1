// The benchmark's API: `total` records served in pages by offset/limit as CoinCap-like JSON (prices as strings, a
// nested object), generated on the fly, the same at every run. Run in its own process by bench/http.ts; prints its
// port on stdout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const total = Number(process.argv[2] ?? 1_000_000);
const symbols = ['BTC', 'ETH', 'USDT', 'BNB', 'SOL', 'XRP', 'USDC', 'ADA', 'DOGE', 'TRX'];

function record(i: number) {
  return {
    id: i,
    symbol: symbols[i % symbols.length],
    priceUsd: (((i * 7919) % 100_000) / 100 + 1).toFixed(8),
    volumeUsd24Hr: (((i * 104729) % 10_000_000) / 7).toFixed(6),
    at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
    market: { exchange: `ex${i % 17}`, pair: `${symbols[i % symbols.length]}/USD`, rank: (i % 100) + 1 },
  };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const offset = Number(url.searchParams.get('offset') ?? 0);
  const limit = Math.min(Number(url.searchParams.get('limit') ?? 1000), 5000);
  const data = [];
  for (let i = offset; i < Math.min(total, offset + limit); i++) data.push(record(i + 1));
  const body = JSON.stringify({ data, timestamp: 1_700_000_000_000 });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
