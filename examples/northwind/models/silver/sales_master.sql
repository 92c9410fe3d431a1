-- description: The sales master of seed 001: one row per order line, joining orders → order details → products →
--   categories → customers. Money is exact: Northwind stores prices and discounts as `real`, read here as
--   DECIMAL(10,2) and DECIMAL(4,2) (their exact values have 2 decimals), so
--   line_total = unit_price × quantity × (1 − discount) is a DECIMAL, never a float.
--   Countries are standardised (UK → United Kingdom, USA → United States, trimmed); names are trimmed.
SELECT
  o.order_id,
  d.product_id,
  o.customer_id,
  trim(c.company_name)                                      AS customer_name,
  CASE trim(c.country) WHEN 'UK' THEN 'United Kingdom' WHEN 'USA' THEN 'United States' ELSE trim(c.country) END AS country,
  trim(c.city)                                              AS city,
  o.employee_id,
  o.order_date,
  o.shipped_date,
  trim(p.product_name)                                      AS product_name,
  cat.category_id,
  trim(cat.category_name)                                   AS category_name,
  CAST(d.unit_price AS DECIMAL(10,2))                       AS unit_price,
  CAST(d.quantity AS INTEGER)                               AS quantity,
  CAST(d.discount AS DECIMAL(4,2))                          AS discount,
  CAST(CAST(d.unit_price AS DECIMAL(10,2)) * d.quantity * (1 - CAST(d.discount AS DECIMAL(4,2))) AS DECIMAL(18,4)) AS line_total
FROM bronze.orders AS o
JOIN bronze.order_details AS d ON d.order_id = o.order_id
JOIN bronze.products AS p ON p.product_id = d.product_id
LEFT JOIN bronze.categories AS cat ON cat.category_id = p.category_id
JOIN bronze.customers AS c ON c.customer_id = o.customer_id
