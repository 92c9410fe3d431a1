-- Seed 003's daily statistics per user: events, purchases, pages seen, first and last action of the day.
SELECT
  CAST("timestamp" AS DATE) AS day,
  user_id,
  count(*) AS events,
  count(*) FILTER (WHERE event_type = 'PURCHASE') AS purchases,
  count(DISTINCT page_id) AS pages,
  min("timestamp") AS first_seen,
  max("timestamp") AS last_seen
FROM bronze.user_activity
GROUP BY ALL
