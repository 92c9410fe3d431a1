SELECT CAST(date_trunc('month', date_achat) AS DATE) AS mois, sum(montant) AS ca, count(*) AS nb_achats
FROM gold.fact_ventes
GROUP BY ALL
