-- One price per asset and minute (the average of the minute's polls, or the backfilled price).
SELECT asset_id, symbol, date_trunc('minute', ingestion_timestamp) AS minute, CAST(avg(price_usd) AS DECIMAL(38, 10)) AS price_usd, count(*) AS samples
FROM silver.crypto_prices
GROUP BY ALL
