SELECT id_client, nom, email, date_inscription, pays
FROM silver.clients_validated
WHERE reject_reason IS NULL
