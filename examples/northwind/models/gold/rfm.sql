-- description: RFM segmentation of customers (seed 001's "analyse RFM"). Reference date = the latest order date + 1
--   day. recency_days = reference date − the customer's last order date; frequency = distinct orders;
--   monetary = sum(line_total). Scores are quintiles (NTILE(5)), ties broken by customer_id. Segments, first
--   matching rule: Champions (r≥4, f≥4), Loyal (r≥3, f≥4), Potential loyalist (r≥4, f≥2), New customers (r≥4),
--   At risk (r≤2, f≥3), Lost (r=1), Hibernating (r=2), Need attention (the rest).
WITH reference AS (
  SELECT max(order_date) + 1 AS reference_date FROM silver.sales_master
),
customers AS (
  SELECT customer_id, any_value(country) AS country, max(order_date) AS last_order_date,
         count(DISTINCT order_id) AS frequency, CAST(sum(line_total) AS DECIMAL(18,2)) AS monetary
  FROM silver.sales_master
  GROUP BY customer_id
),
scores AS (
  SELECT
    c.customer_id, c.country, r.reference_date - c.last_order_date AS recency_days, c.frequency, c.monetary,
    ntile(5) OVER (ORDER BY r.reference_date - c.last_order_date DESC, c.customer_id) AS r_score,
    ntile(5) OVER (ORDER BY c.frequency, c.customer_id)                              AS f_score,
    ntile(5) OVER (ORDER BY c.monetary, c.customer_id)                               AS m_score
  FROM customers c CROSS JOIN reference r
)
SELECT
  customer_id, country, recency_days, frequency, monetary, r_score, f_score, m_score,
  CASE
    WHEN r_score >= 4 AND f_score >= 4 THEN 'Champions'
    WHEN r_score >= 3 AND f_score >= 4 THEN 'Loyal'
    WHEN r_score >= 4 AND f_score >= 2 THEN 'Potential loyalist'
    WHEN r_score >= 4 THEN 'New customers'
    WHEN r_score <= 2 AND f_score >= 3 THEN 'At risk'
    WHEN r_score = 1 THEN 'Lost'
    WHEN r_score = 2 THEN 'Hibernating'
    ELSE 'Need attention'
  END AS segment
FROM scores
