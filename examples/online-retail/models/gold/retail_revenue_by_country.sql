-- description: revenue = sum(line_total); invoices = distinct invoice_no; customers = distinct non-null customer_id
SELECT
  country,
  sum(line_total)             AS revenue,
  count(DISTINCT invoice_no)  AS invoices,
  count(DISTINCT customer_id) AS customers
FROM silver.retail_sales
GROUP BY country
