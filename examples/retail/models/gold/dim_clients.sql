-- description: clients with their purchases; segment by total_ca: Platinum >= 5000, Gold >= 2000, Silver >= 500, else Bronze.
SELECT
  c.id_client, c.nom, c.email, c.pays, c.date_inscription,
  count(a.id_achat)                AS nb_achats,
  coalesce(sum(a.montant), 0)      AS total_ca,
  min(a.date_achat)                AS premiere_commande,
  max(a.date_achat)                AS derniere_commande,
  CASE
    WHEN coalesce(sum(a.montant), 0) >= 5000 THEN 'Platinum'
    WHEN coalesce(sum(a.montant), 0) >= 2000 THEN 'Gold'
    WHEN coalesce(sum(a.montant), 0) >= 500 THEN 'Silver'
    ELSE 'Bronze'
  END AS segment
FROM silver.clients c
LEFT JOIN silver.achats a USING (id_client)
GROUP BY ALL
