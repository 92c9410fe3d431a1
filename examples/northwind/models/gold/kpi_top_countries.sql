-- description: The three countries with the most revenue (seed 001's "top 3 pays"), ranked.
SELECT rank, country, revenue, orders
FROM (
  SELECT
    country,
    CAST(sum(line_total) AS DECIMAL(18,2)) AS revenue,
    count(DISTINCT order_id)               AS orders,
    row_number() OVER (ORDER BY sum(line_total) DESC, country) AS rank
  FROM silver.sales_master
  GROUP BY country
)
WHERE rank <= 3
