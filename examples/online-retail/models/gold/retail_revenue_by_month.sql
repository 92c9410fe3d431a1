-- description: month = first day of the month of invoice_ts
SELECT
  CAST(date_trunc('month', invoice_ts) AS DATE) AS month,
  sum(line_total)                              AS revenue,
  count(DISTINCT invoice_no)                   AS invoices
FROM silver.retail_sales
GROUP BY 1
