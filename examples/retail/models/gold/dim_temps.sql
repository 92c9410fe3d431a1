SELECT DISTINCT
  CAST(strftime(date_achat, '%Y%m%d') AS INTEGER) AS id_date,
  date_achat                                     AS date,
  day(date_achat)                                AS jour,
  month(date_achat)                              AS mois,
  year(date_achat)                               AS annee,
  quarter(date_achat)                            AS trimestre
FROM silver.achats
