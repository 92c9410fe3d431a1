-- The latest poll of each asset.
SELECT asset_id, symbol, name, price_usd, market_cap_usd, volume_24h_usd, change_percent_24h, ingestion_timestamp,
       rank() OVER (ORDER BY market_cap_usd DESC) AS rank
FROM silver.crypto_prices
WHERE origin = 'poll'
QUALIFY row_number() OVER (PARTITION BY asset_id ORDER BY ingestion_timestamp DESC) = 1
