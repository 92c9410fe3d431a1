-- materialized: merge
-- unique_key: invoice_no, stock_code, description, quantity, unit_price, invoice_ts, customer_id, country
-- description: one row per sales line, without cancellations (InvoiceNo C…), non-positive quantities or prices,
--   and exact duplicates (all 8 source columns equal: one copy kept, also across daily files and runs)
SELECT DISTINCT
  InvoiceNo                                            AS invoice_no,
  StockCode                                            AS stock_code,
  Description                                          AS description,
  Quantity                                             AS quantity,
  UnitPrice                                            AS unit_price,
  InvoiceDate                                          AS invoice_ts,
  CAST(CAST(NULLIF(trim(CustomerID), '') AS DOUBLE) AS BIGINT) AS customer_id,  -- source values look like 17850.0
  Country                                              AS country,
  Quantity * UnitPrice                                 AS line_total
FROM bronze.online_retail
WHERE NOT starts_with(InvoiceNo, 'C')
  AND Quantity > 0
  AND UnitPrice > 0
