-- The OCR pipeline's results (the seed's results/): every document read from the inbox, its type, its invoice
-- fields and confidence, and why it awaits a person when it does (status `review`).
SELECT
  file_hash,
  file,
  media_type,
  pages,
  doc_type,
  round(confidence, 1) AS confidence,
  fields.invoice_number AS invoice_number,
  fields.invoice_date AS invoice_date,
  fields.total_ht AS total_ht,
  fields.total_tva AS total_tva,
  fields.total_ttc AS total_ttc,
  fields.currency AS currency,
  fields.vendor AS vendor,
  CASE WHEN review_reason IS NULL THEN 'ok' ELSE 'review' END AS status,
  review_reason,
  array_to_string(warnings, '; ') AS warnings,
  _ingested_at AS ingested_at
FROM bronze.documents
