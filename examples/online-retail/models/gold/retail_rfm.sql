-- description: RFM scores per customer. Reference date = latest invoice date in silver + 1 day.
--   recency_days = reference date - date of the customer's last invoice; frequency = distinct invoices;
--   monetary = sum(line_total). Scores are quintiles (NTILE(5)), ties broken by customer_id.
--   Segments, first matching rule: Champions (r>=4, f>=4), Loyal (r>=3, f>=4), Potential loyalist (r>=4, f>=2),
--   New customers (r>=4), At risk (r<=2, f>=3), Lost (r=1), Hibernating (r=2), Need attention (the rest: r=3, f<=3).
WITH reference AS (
  SELECT CAST(max(invoice_ts) AS DATE) + 1 AS reference_date FROM silver.retail_sales
),
customers AS (
  SELECT
    customer_id,
    max(CAST(invoice_ts AS DATE)) AS last_invoice_date,
    count(DISTINCT invoice_no)    AS frequency,
    sum(line_total)               AS monetary
  FROM silver.retail_sales
  WHERE customer_id IS NOT NULL
  GROUP BY customer_id
),
scored AS (
  SELECT
    c.customer_id,
    r.reference_date - c.last_invoice_date AS recency_days,
    c.frequency,
    c.monetary
  FROM customers c CROSS JOIN reference r
),
scores AS (
  SELECT
    *,
    ntile(5) OVER (ORDER BY recency_days DESC, customer_id) AS r_score,
    ntile(5) OVER (ORDER BY frequency, customer_id)         AS f_score,
    ntile(5) OVER (ORDER BY monetary, customer_id)          AS m_score
  FROM scored
)
SELECT
  customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
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
