-- The seed's database export, clean: the rows MariaDB holds, one per invoice of a day.
SELECT
  CAST(id_facture AS INTEGER) AS id_facture,
  CAST(date_facture AS DATE) AS date_facture,
  CAST(id_client AS INTEGER) AS id_client,
  CAST(montant_ht AS DECIMAL(18, 2)) AS montant_ht,
  CAST(montant_ttc AS DECIMAL(18, 2)) AS montant_ttc,
  upper(trim(pays)) AS pays,
  upper(trim(mode_paiement)) AS mode_paiement
FROM bronze.factures_db
QUALIFY row_number() OVER (PARTITION BY date_facture, id_facture ORDER BY _ingested_at DESC) = 1
