SELECT rank() OVER (ORDER BY total_ca DESC, id_client) AS rang, id_client, nom, pays, total_ca, nb_achats, segment
FROM gold.dim_clients
ORDER BY total_ca DESC, id_client
LIMIT 100
