-- Seed 000's curated zone (curated/analytics/<date>/analytics_summary_<date>.json): one row per day, its totals as
-- columns and the seed's JSON documents as the analytics API answers them (`summary`, `by_region`, `by_country`).
WITH totals AS (
  SELECT
    strftime(date_facture, '%Y-%m-%d') AS date,
    count(*) AS total_factures,
    round(sum(coalesce(montant_ttc, 0)), 2) AS montant_ttc_total,
    round(sum(coalesce(montant_ht, 0)), 2) AS montant_ht_total
  FROM silver.factures_api_enriched
  GROUP BY ALL
),
by_country AS (
  SELECT date, json_group_object(pays, json_object('count', count, 'montant_ttc_sum', montant_ttc_sum, 'montant_ht_sum', montant_ht_sum)) AS groups
  FROM gold.analytics_by_country
  GROUP BY date
),
by_region AS (
  SELECT date, json_group_object(region, json_object('count', count, 'montant_ttc_sum', montant_ttc_sum)) AS groups
  FROM gold.analytics_by_region
  GROUP BY date
),
by_payment AS (
  SELECT date, json_group_object(mode_paiement, json_object('count', count, 'montant_ttc_sum', montant_ttc_sum)) AS groups
  FROM gold.analytics_by_payment
  GROUP BY date
)
SELECT
  t.date,
  t.total_factures,
  t.montant_ttc_total,
  t.montant_ht_total,
  json_object(
    'date', t.date,
    'total_factures', t.total_factures,
    'montant_ttc_total', t.montant_ttc_total,
    'montant_ht_total', t.montant_ht_total,
    'by_country', c.groups,
    'by_region', r.groups,
    'by_payment', p.groups
  ) AS summary,
  json_object('date', t.date, 'by_region', r.groups) AS by_region,
  json_object('date', t.date, 'by_country', c.groups) AS by_country
FROM totals AS t
JOIN by_country AS c USING (date)
JOIN by_region AS r USING (date)
JOIN by_payment AS p USING (date)
