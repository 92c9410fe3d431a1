-- Seed 000's batch KPIs by payment method, per day.
SELECT
  strftime(date_facture, '%Y-%m-%d') AS date,
  coalesce(nullif(mode_paiement, ''), 'UNKNOWN') AS mode_paiement,
  count(*) AS count,
  round(sum(coalesce(montant_ttc, 0)), 2) AS montant_ttc_sum
FROM silver.factures_api_enriched
GROUP BY ALL
