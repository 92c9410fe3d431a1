SELECT * FROM silver.achats_validated WHERE reject_reason IS NOT NULL
