-- The seed's API invoices: FakerAPI's products mapped to invoices as its ingest_from_api does (one invoice per
-- product, HT = the price, TTC = HT × 1.2), and API invoices landed as files (the seed's own raw zone). The seed
-- draws the customer, the country and the payment at random; here they are drawn from the product's code, so that
-- a run can be repeated. A day comes from its latest landing: a day polled again replaces that day's invoices, as
-- the seed overwrote the day's file.
WITH polled AS (
  SELECT
    id AS id_facture,
    CAST(_ingested_at AS DATE) AS date_facture,
    CAST(1 + hash(ean, 'client') % 10 AS INTEGER) AS id_client,
    round(price, 2) AS montant_ht,
    round(price * 1.2, 2) AS montant_ttc,
    ['FR', 'DE', 'ES', 'IT'][CAST(1 + hash(ean, 'pays') % 4 AS INTEGER)] AS pays,
    ['CB', 'VIREMENT', 'PAYPAL', 'CHEQUE'][CAST(1 + hash(ean, 'paiement') % 4 AS INTEGER)] AS mode_paiement,
    name AS produit_nom,
    description AS produit_description,
    ean AS produit_code,
    'api' AS origine,
    _batch_id AS landing,
    _ingested_at
  FROM bronze.fakerapi_products
),
filed AS (
  SELECT
    CAST(id_facture AS INTEGER),
    CAST(date_facture AS DATE),
    CAST(id_client AS INTEGER),
    CAST(montant_ht AS DECIMAL(18, 2)),
    CAST(montant_ttc AS DECIMAL(18, 2)),
    upper(trim(CAST(pays AS VARCHAR))),
    upper(trim(CAST(mode_paiement AS VARCHAR))),
    CAST(produit_nom AS VARCHAR),
    CAST(produit_description AS VARCHAR),
    CAST(produit_code AS VARCHAR),
    'fichier',
    _file_hash,
    _ingested_at
  FROM bronze.factures_api_files
),
landed AS (
  SELECT * FROM polled
  UNION ALL
  SELECT * FROM filed
)
SELECT
  id_facture,
  date_facture,
  id_client,
  CAST(montant_ht AS DECIMAL(18, 2)) AS montant_ht,
  CAST(montant_ttc AS DECIMAL(18, 2)) AS montant_ttc,
  pays,
  mode_paiement,
  produit_nom,
  produit_description,
  produit_code,
  origine
FROM landed
QUALIFY landing = arg_max(landing, _ingested_at) OVER (PARTITION BY date_facture)
