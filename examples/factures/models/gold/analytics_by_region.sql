-- Seed 000's batch KPIs by region (REST Countries' region of the invoice's country), per day.
SELECT
  strftime(date_facture, '%Y-%m-%d') AS date,
  coalesce(nullif(country_region, ''), 'UNKNOWN') AS region,
  count(*) AS count,
  round(sum(coalesce(montant_ttc, 0)), 2) AS montant_ttc_sum
FROM silver.factures_api_enriched
GROUP BY ALL
