-- The five assets that rose most and the five that fell most in 24 hours.
(SELECT 'gainer' AS direction, symbol, name, change_percent_24h, price_usd FROM gold.latest_prices WHERE change_percent_24h > 0 ORDER BY change_percent_24h DESC LIMIT 5)
UNION ALL
(SELECT 'loser' AS direction, symbol, name, change_percent_24h, price_usd FROM gold.latest_prices WHERE change_percent_24h < 0 ORDER BY change_percent_24h ASC LIMIT 5)
