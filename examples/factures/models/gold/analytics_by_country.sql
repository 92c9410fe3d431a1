-- Seed 000's batch KPIs by country, per day, over the enriched API invoices (its clean zone): a missing country
-- counts as UNKNOWN, a missing amount as 0; sums are exact decimals, rounded to 2 places.
SELECT
  strftime(date_facture, '%Y-%m-%d') AS date,
  coalesce(nullif(pays, ''), 'UNKNOWN') AS pays,
  count(*) AS count,
  round(sum(coalesce(montant_ttc, 0)), 2) AS montant_ttc_sum,
  round(sum(coalesce(montant_ht, 0)), 2) AS montant_ht_sum
FROM silver.factures_api_enriched
GROUP BY ALL
