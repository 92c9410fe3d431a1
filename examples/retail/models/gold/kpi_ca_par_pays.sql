-- description: revenue by the client's country; purchases of unknown clients count under 'Inconnu'.
SELECT coalesce(c.pays, 'Inconnu') AS pays, sum(f.montant) AS ca, count(*) AS nb_achats, count(DISTINCT f.id_client) AS nb_clients
FROM gold.fact_ventes f
LEFT JOIN gold.dim_clients c USING (id_client)
GROUP BY ALL
