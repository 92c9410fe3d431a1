SELECT * FROM silver.clients_validated WHERE reject_reason IS NOT NULL
