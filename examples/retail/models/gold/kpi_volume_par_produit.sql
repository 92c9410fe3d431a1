SELECT produit, count(*) AS nb_ventes, sum(montant) AS ca
FROM gold.fact_ventes
GROUP BY ALL
