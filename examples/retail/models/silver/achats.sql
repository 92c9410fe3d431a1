SELECT id_achat, id_client, date_achat, montant, produit
FROM silver.achats_validated
WHERE reject_reason IS NULL
