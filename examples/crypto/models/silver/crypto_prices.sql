-- One row per asset and fetch: the polls' records with CoinCap's strings cast to exact decimals, and the minutes
-- backfilled from the history endpoint where no poll landed (origin 'backfill', without market figures).
WITH polled AS (
  SELECT
    id AS asset_id,
    symbol,
    name,
    CAST(priceUsd AS DECIMAL(38, 10)) AS price_usd,
    CAST(marketCapUsd AS DECIMAL(38, 10)) AS market_cap_usd,
    CAST(volumeUsd24Hr AS DECIMAL(38, 10)) AS volume_24h_usd,
    CAST(changePercent24Hr AS DECIMAL(38, 10)) AS change_percent_24h,
    make_timestamp(CAST(served_ms AS BIGINT) * 1000) AS ingestion_timestamp,
    'poll' AS origin
  FROM bronze.coincap_assets
  WHERE id IS NOT NULL AND priceUsd IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY id, served_ms ORDER BY _ingested_at) = 1
),
names AS (
  SELECT asset_id, arg_max(symbol, ingestion_timestamp) AS symbol, arg_max(name, ingestion_timestamp) AS name FROM polled GROUP BY asset_id
),
backfilled AS (
  SELECT
    h.asset_id,
    n.symbol,
    n.name,
    CAST(h.priceUsd AS DECIMAL(38, 10)) AS price_usd,
    CAST(NULL AS DECIMAL(38, 10)) AS market_cap_usd,
    CAST(NULL AS DECIMAL(38, 10)) AS volume_24h_usd,
    CAST(NULL AS DECIMAL(38, 10)) AS change_percent_24h,
    make_timestamp(h.time * 1000) AS ingestion_timestamp,
    'backfill' AS origin
  FROM bronze.coincap_history AS h
  JOIN names AS n USING (asset_id)
  QUALIFY row_number() OVER (PARTITION BY h.asset_id, h.time ORDER BY h._ingested_at) = 1
)
SELECT * FROM polled
UNION ALL
SELECT b.* FROM backfilled AS b
WHERE NOT EXISTS (
  SELECT 1 FROM polled AS p WHERE p.asset_id = b.asset_id AND date_trunc('minute', p.ingestion_timestamp) = date_trunc('minute', b.ingestion_timestamp)
)
