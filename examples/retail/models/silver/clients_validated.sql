-- description: every bronze client with the reason it is dropped from silver.clients (NULL: kept).
--   First matching reason: duplicate (same id_client, first kept), missing_values, invalid_email.
WITH ranked AS (
  SELECT *, row_number() OVER (PARTITION BY id_client ORDER BY _ingested_at, _source_file, nom, email) AS occurrence
  FROM bronze.clients
)
SELECT
  id_client, trim(nom) AS nom, lower(trim(email)) AS email, date_inscription, trim(pays) AS pays,
  CASE
    WHEN occurrence > 1 AND id_client IS NOT NULL THEN 'duplicate'
    WHEN id_client IS NULL OR nom IS NULL OR email IS NULL OR pays IS NULL THEN 'missing_values'
    WHEN NOT contains(email, '@') THEN 'invalid_email'
  END AS reject_reason,
  _source_file
FROM ranked
