import { agg, defineConfig, stream, windows } from 'tributary-data';

// Seed 003: user activity events as Avro on Kafka, their schemas in a registry guarded by a compatibility gate, a
// stream counting them per event type and minute (10-minute watermark), every record kept as received (its MongoDB
// landing zone) and as typed rows (its BigQuery table, by day), and a daily aggregation (its Airflow DAG).
// The log is the embedded one by default; TRIBUTARY_LOG=kafka://127.0.0.1:9092 runs the same stream on Kafka.
export default defineConfig({
  name: 'user-activity',
  log: '${TRIBUTARY_LOG:-embedded}',
  // The schema registry: the catalog's own (served by `tributary serve` at /registry, or `tributary registry`).
  registry: '${SCHEMA_REGISTRY:-embedded}',
  streams: {
    'user-activity': stream({
      topic: 'user_activity',
      partitions: 3,
      // Records carry their writer's schema id; each is read as this version (a newer producer's extra fields are
      // left out, an older one's missing fields get their defaults).
      // No `fields`: the schema is the contract of the events table too (event_type's enum, metadata as a MAP).
      format: { kind: 'avro', schema: 'contracts/user_activity-value.avsc' },
      eventTime: 'timestamp',
      // Seed 003's process_user_activity.py: 1-minute tumbling windows by event type, a 10-minute watermark.
      watermark: '10m',
      eventTimeLimits: { maxAhead: false },
      outputs: {
        'gold.activity_per_minute': { window: windows.tumbling('1m'), groupBy: ['event_type'], aggregates: { events: agg.count() } },
      },
      landing: 'bronze.user_activity_raw',
      events: 'bronze.user_activity',
    }),
  },
  tables: {
    'bronze.user_activity': { partitionBy: { column: 'timestamp', granularity: 'day' } },
  },
  jobs: {
    // Every minute: what the topic received since.
    live: { select: ['stream:user-activity'], schedule: '* * * * *' },
    // Seed 003's "Daily Aggregation" DAG, at midnight.
    daily: { select: ['gold.daily_event_stats', 'gold.daily_user_stats'], schedule: '@daily' },
  },
  serve: {
    port: 8086,
    tables: {
      'gold.activity_per_minute': { dimensions: ['event_type'], timeColumn: 'window_start', measures: ['sum(events)'] },
      'gold.daily_event_stats': { dimensions: ['day', 'event_type'] },
      'gold.daily_user_stats': { dimensions: ['day', 'user_id'] },
    },
    dashboard: {
      title: 'User activity — Tributary',
      pages: [
        {
          id: 'live',
          title: 'Live',
          charts: [
            {
              title: 'Events per type (closed minutes)',
              type: 'bar',
              source: '/aggregations/gold/activity_per_minute?measure=sum(events)&by=event_type',
              x: 'event_type',
              y: 'sum(events)',
            },
            { title: 'Minutes', type: 'table', source: '/tables/gold/activity_per_minute?sort=-window_start&limit=50', filter: 'event_type' },
          ],
        },
        {
          id: 'daily',
          title: 'Daily',
          charts: [
            { title: 'Events per day and type', type: 'table', source: '/tables/gold/daily_event_stats?sort=-day,event_type' },
            { title: 'Users', type: 'table', source: '/tables/gold/daily_user_stats?sort=-day,-events&limit=100', filter: 'user_id' },
          ],
        },
      ],
    },
  },
});
