-- description: distribution of montant per product: count, mean, standard deviation, min, quartiles, max.
SELECT
  produit,
  count(*)                          AS nb,
  round(avg(montant), 2)            AS moyenne,
  round(stddev_samp(montant), 2)    AS ecart_type,
  min(montant)                      AS min,
  quantile_cont(montant, 0.25)      AS q1,
  quantile_cont(montant, 0.5)       AS mediane,
  quantile_cont(montant, 0.75)      AS q3,
  max(montant)                      AS max
FROM silver.achats
GROUP BY produit
