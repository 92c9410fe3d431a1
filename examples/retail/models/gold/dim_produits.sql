SELECT
  row_number() OVER (ORDER BY produit) AS id_produit,
  produit,
  count(*)              AS nb_ventes,
  sum(montant)          AS ca_total,
  round(avg(montant), 2) AS prix_moyen,
  min(montant)          AS prix_min,
  max(montant)          AS prix_max
FROM silver.achats
GROUP BY produit
