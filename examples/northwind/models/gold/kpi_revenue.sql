-- description: Total revenue (seed 001's KPI dashboard), with the orders, lines and customers it comes from.
SELECT
  CAST(sum(line_total) AS DECIMAL(18,2)) AS revenue,
  count(DISTINCT order_id)               AS orders,
  count(*)                               AS lines,
  count(DISTINCT customer_id)            AS customers
FROM silver.sales_master
