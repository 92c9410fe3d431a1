-- Each asset's share of the market capitalisation of all assets, at the latest poll.
SELECT symbol, name, market_cap_usd, CAST(100 * market_cap_usd / sum(market_cap_usd) OVER () AS DECIMAL(9, 4)) AS dominance_pct
FROM gold.latest_prices
