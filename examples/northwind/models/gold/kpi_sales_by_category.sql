-- description: Revenue and quantity sold per product category (seed 001's "ventes par catégorie").
SELECT
  category_name,
  CAST(sum(line_total) AS DECIMAL(18,2)) AS revenue,
  sum(quantity)                          AS quantity,
  count(DISTINCT order_id)               AS orders
FROM silver.sales_master
GROUP BY category_name
