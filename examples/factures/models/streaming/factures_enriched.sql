-- The seed's streaming zone: the enriched invoices the consumer received from `factures-enriched`, parsed, once per
-- invoice (a snapshot published again after a crash sends its records again: the latest record of a key is kept).
SELECT
  CAST(v ->> 'id_facture' AS INTEGER) AS id_facture,
  CAST(v ->> 'date_facture' AS DATE) AS date_facture,
  CAST(v ->> 'id_client' AS INTEGER) AS id_client,
  CAST(v ->> 'montant_ht' AS DECIMAL(18, 2)) AS montant_ht,
  CAST(v ->> 'montant_ttc' AS DECIMAL(18, 2)) AS montant_ttc,
  v ->> 'pays' AS pays,
  v ->> 'mode_paiement' AS mode_paiement,
  v ->> 'produit_code' AS produit_code,
  v ->> 'country_region' AS country_region,
  v ->> 'currency_code' AS currency_code,
  "partition",
  "offset",
  "timestamp" AS received_at
FROM (SELECT json(decode(value)) AS v, * EXCLUDE (value) FROM streaming.factures_enriched_raw)
QUALIFY row_number() OVER (PARTITION BY date_facture, id_facture ORDER BY "timestamp" DESC, "partition", "offset" DESC) = 1
