-- The seed's "files" source, clean: one row per invoice of a day, whichever of its CSV or JSON copy it came from
-- (the latest landed when a file changed).
SELECT
  CAST(id_facture AS INTEGER) AS id_facture,
  CAST(date_facture AS DATE) AS date_facture,
  CAST(id_client AS INTEGER) AS id_client,
  CAST(montant_ht AS DECIMAL(18, 2)) AS montant_ht,
  CAST(montant_ttc AS DECIMAL(18, 2)) AS montant_ttc,
  upper(trim(CAST(pays AS VARCHAR))) AS pays,
  upper(trim(CAST(mode_paiement AS VARCHAR))) AS mode_paiement,
  _source_file AS fichier
FROM bronze.factures_files
QUALIFY row_number() OVER (PARTITION BY CAST(date_facture AS DATE), CAST(id_facture AS INTEGER) ORDER BY _ingested_at DESC, _source_file) = 1
