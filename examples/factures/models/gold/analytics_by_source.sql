-- Beyond the seed's KPIs: every source's invoices per day (files, db, api), for the dashboard.
SELECT
  strftime(date_facture, '%Y-%m-%d') AS date,
  source,
  count(*) AS count,
  round(sum(montant_ttc), 2) AS montant_ttc_sum,
  round(sum(montant_ht), 2) AS montant_ht_sum
FROM silver.factures
GROUP BY ALL
