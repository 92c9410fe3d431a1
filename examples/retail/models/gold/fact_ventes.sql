-- description: one row per valid purchase, with its keys to the dimensions and the client's segment
--   (purchases of clients missing from silver.clients are kept, with a NULL segment: see the warn check).
SELECT
  a.id_achat,
  a.id_client,
  CAST(strftime(a.date_achat, '%Y%m%d') AS INTEGER) AS id_date,
  a.date_achat,
  p.id_produit,
  a.produit,
  a.montant,
  c.segment
FROM silver.achats a
LEFT JOIN gold.dim_produits p USING (produit)
LEFT JOIN gold.dim_clients c USING (id_client)
