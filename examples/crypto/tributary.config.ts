import { checks, defineConfig, http } from 'tributary-data';

// Seed 004: CoinCap's /v2/assets polled every 10 seconds, every response kept as received (bronze.coincap_raw), the
// records typed in bronze, cleaned in silver (numbers as DECIMAL, one row per asset and fetch), appended to
// PostgreSQL's crypto_prices, and summed up in gold. Gaps (minutes without a poll) are backfilled from the history
// endpoint. Start the simulator first (see README.md):
//   node examples/crypto/simulator.mjs        # CoinCap v2 on http://127.0.0.1:8765/v2
const api = '${COINCAP_URL:-http://127.0.0.1:8765/v2}';
const store = '${CRYPTO_PG:-postgres://postgres@127.0.0.1:5432/test}';

export default defineConfig({
  name: 'crypto',
  sources: {
    // One poll: the assets by rank (CoinCap pages with limit/offset), each record with the response's timestamp.
    coincap: http({
      baseUrl: api,
      path: '/assets',
      select: 'data',
      paginate: { type: 'offset', limit: 100 },
      responseFields: { served_ms: 'timestamp' },
      into: 'bronze.coincap_assets',
      raw: 'bronze.coincap_raw',
      timeout: '10s',
      retry: { attempts: 3, delay: '1s', maxDelay: '5s' },
      rateLimit: 5,
    }),
    // Seed 004's check_and_backfill: for each asset, the minutes between its first and last poll that no poll
    // covered (in the last 24 hours), asked from the history endpoint, one request per asset.
    coincap_gaps: http({
      baseUrl: api,
      path: '/assets/{asset_id}/history',
      params: { interval: 'm1', start: '{start_ms}', end: '{end_ms}' },
      parent: {
        query: `
          WITH seen AS (
            SELECT DISTINCT asset_id, date_trunc('minute', ingestion_timestamp) AS minute FROM silver.crypto_prices
            WHERE ingestion_timestamp > (SELECT max(ingestion_timestamp) FROM silver.crypto_prices) - INTERVAL 24 HOUR
          ),
          expected AS (
            SELECT asset_id, unnest(generate_series(min(minute), max(minute), INTERVAL 1 MINUTE)) AS minute FROM seen GROUP BY asset_id
          ),
          missing AS (SELECT * FROM expected ANTI JOIN seen USING (asset_id, minute))
          SELECT asset_id, epoch_ms(min(minute)) AS start_ms, epoch_ms(max(minute)) + 60000 AS end_ms
          FROM missing GROUP BY asset_id ORDER BY asset_id`,
      },
      include: { asset_id: 'asset_id' },
      select: 'data',
      columns: { priceUsd: 'VARCHAR', time: 'BIGINT', date: 'VARCHAR', asset_id: 'VARCHAR' },
      into: 'bronze.coincap_history',
      raw: 'bronze.coincap_history_raw',
      concurrency: 2,
      rateLimit: 5,
    }),
  },
  checks: {
    'silver.crypto_prices': [
      checks.notNull('asset_id'),
      checks.notNull('price_usd'),
      checks.unique(['asset_id', 'ingestion_timestamp']),
      checks.range('price_usd', { min: 0 }),
      // Ingestion stalled: no price for 3 minutes (also a Prometheus alert, TributaryTableStale).
      checks.freshness('ingestion_timestamp', 0.05, { severity: 'warn' }),
    ],
    'gold.latest_prices': [
      checks.unique('asset_id'),
      // Seed 004's Grafana alert: bitcoin down more than 10 % in 24 hours (an alert rule of `monitoring export`).
      checks.sql('bitcoin_24h_drop', `SELECT * FROM gold.latest_prices WHERE asset_id = 'bitcoin' AND change_percent_24h < -10`, {
        severity: 'warn',
        alert: 'BitcoinDrop24h',
      }),
    ],
  },
  // Seed 004's init.sql: crypto_prices, appended to (a history keyed by asset and time), indexed on symbol and time.
  store: {
    url: store,
    tables: {
      'silver.crypto_prices': { key: ['asset_id', 'ingestion_timestamp'], target: 'crypto_prices', mode: 'append', indexes: ['symbol', 'ingestion_timestamp'] },
    },
  },
  // Seed 004's DAG: is the API up, is PostgreSQL up, then the work.
  probes: {
    coincap_api: { url: api, timeout: '5s', before: ['source:coincap', 'source:coincap_gaps'] },
    postgres: { url: store, timeout: '5s', before: ['sync:silver.crypto_prices'] },
  },
  jobs: {
    // Every 10 seconds: a poll, then silver, gold and the store.
    // The gap source is upstream of silver: it asks nothing when no minute is missing.
    poll: { select: ['+silver.crypto_prices+'], schedule: '*/10 * * * * *', retries: 1, retryDelay: '2s' },
    // Every 10 minutes: the probes, the gap backfill, the checks (freshness, the bitcoin alert) and the store.
    maintenance: { select: ['probe:*', 'source:coincap_gaps+'], schedule: '*/10 * * * *' },
  },
  serve: {
    port: 8084,
    expose: ['gold.*'],
    tables: {
      'gold.latest_prices': { key: 'asset_id', dimensions: ['symbol'] },
      'gold.price_history': { dimensions: ['symbol'], timeColumn: 'minute' },
      'gold.market_dominance': { key: 'symbol' },
      'gold.top_movers': { dimensions: ['direction'] },
    },
    dashboard: {
      title: 'Crypto — Tributary',
      pages: [
        {
          id: 'prices',
          title: 'Current prices',
          charts: [
            { title: 'Bitcoin (USD)', type: 'kpi', source: '/tables/gold/latest_prices?symbol=BTC', y: 'price_usd' },
            { title: 'Price per symbol', type: 'table', source: '/tables/gold/latest_prices?sort=rank', filter: 'symbol' },
          ],
        },
        {
          id: 'history',
          title: 'Price history',
          charts: [
            {
              title: 'Price per minute',
              type: 'line',
              source: '/tables/gold/price_history?symbol=BTC&sort=-minute&limit=1000',
              x: 'minute',
              y: 'price_usd',
              filter: 'symbol',
            },
          ],
        },
        {
          id: 'market',
          title: 'Market',
          charts: [
            { title: 'Market dominance', type: 'doughnut', source: '/tables/gold/market_dominance?sort=-dominance_pct', x: 'symbol', y: 'dominance_pct' },
            {
              title: 'Top gainers and losers (24 h)',
              type: 'bar',
              source: '/tables/gold/top_movers?sort=-change_percent_24h',
              x: 'symbol',
              y: 'change_percent_24h',
            },
          ],
        },
      ],
    },
  },
});
