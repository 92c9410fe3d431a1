-- description: every bronze purchase with its normalised date and the reason it is dropped from silver.achats
--   (NULL: kept). Dates arrive as YYYY-MM-DD, DD/MM/YYYY or YYYY/MM/DD. First matching reason: duplicate (same
--   id_achat, first kept), missing_values, unparseable_date, future_date, amount_out_of_range (outside
--   [RETAIL_MIN_AMOUNT, RETAIL_MAX_AMOUNT], default [0, 10000]).
WITH typed AS (
  SELECT
    *,
    CAST(coalesce(try_strptime(date_achat, '%Y-%m-%d'), try_strptime(date_achat, '%d/%m/%Y'), try_strptime(date_achat, '%Y/%m/%d')) AS DATE) AS date_norm,
    row_number() OVER (PARTITION BY id_achat ORDER BY _ingested_at, _source_file, id_client, date_achat, montant, produit) AS occurrence
  FROM bronze.achats
)
SELECT
  id_achat, id_client, date_achat AS date_source, date_norm AS date_achat, montant, trim(produit) AS produit,
  CASE
    WHEN occurrence > 1 AND id_achat IS NOT NULL THEN 'duplicate'
    WHEN id_achat IS NULL OR id_client IS NULL OR montant IS NULL OR produit IS NULL OR date_achat IS NULL THEN 'missing_values'
    WHEN date_norm IS NULL THEN 'unparseable_date'
    WHEN date_norm > current_date THEN 'future_date'
    WHEN montant < ${RETAIL_MIN_AMOUNT:-0} OR montant > ${RETAIL_MAX_AMOUNT:-10000} THEN 'amount_out_of_range'
  END AS reject_reason,
  _source_file
FROM typed
