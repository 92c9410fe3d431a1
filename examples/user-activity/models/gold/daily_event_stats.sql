-- Seed 003's "Daily Aggregation" DAG: per day and event type, the events and the distinct users, from the typed
-- events the stream lands (its BigQuery table, partitioned by day).
SELECT
  CAST("timestamp" AS DATE) AS day,
  event_type,
  count(*) AS events,
  count(DISTINCT user_id) AS users
FROM bronze.user_activity
GROUP BY ALL
