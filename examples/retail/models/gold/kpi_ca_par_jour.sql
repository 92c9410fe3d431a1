SELECT date_achat AS date, sum(montant) AS ca, count(*) AS nb_achats
FROM gold.fact_ventes
GROUP BY ALL
