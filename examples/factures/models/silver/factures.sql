-- Every invoice of the three sources, enriched alike: what the seed keeps in three folders, as one table.
WITH invoices AS (
  SELECT 'files' AS source, id_facture, date_facture, id_client, montant_ht, montant_ttc, pays, mode_paiement FROM silver.factures_files
  UNION ALL
  SELECT 'db', id_facture, date_facture, id_client, montant_ht, montant_ttc, pays, mode_paiement FROM silver.factures_db
  UNION ALL
  SELECT 'api', id_facture, date_facture, id_client, montant_ht, montant_ttc, pays, mode_paiement FROM silver.factures_api
)
SELECT
  i.*,
  c.region AS country_region,
  c.subregion AS country_subregion,
  (SELECT first(e.key ORDER BY e.id) FROM json_each(c.currencies) AS e) AS currency_code
FROM invoices AS i
LEFT JOIN bronze.countries AS c ON c.cca2 = i.pays
