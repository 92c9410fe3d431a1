// The distributed set-up's project (deploy/docker-compose.yml): the same config as on one machine, with the catalog
// on PostgreSQL, the log on Kafka and the lake on S3 (MinIO here) from the environment. docs/deploy.md.
const s3 = process.env.S3_ENDPOINT;

export default {
  name: 'tributary-distributed',
  catalog: '${TRIBUTARY_CATALOG:-embedded}',
  log: '${TRIBUTARY_LOG:-embedded}',
  lake: {
    path: '${TRIBUTARY_LAKE:-./lake}',
    storage: {
      region: '${AWS_REGION:-us-east-1}',
      ...(s3 ? { endpoint: s3, forcePathStyle: true } : {}),
    },
  },
  sources: {
    ventes: { kind: 'files', glob: 'data/*.csv', into: 'bronze.ventes' },
  },
  streams: {
    'ventes-live': {
      topic: 'ventes-temps-reel',
      partitions: 3,
      fields: { id: 'string', event_time: 'timestamp', pays: 'string', montant: 'number' },
      eventTime: 'event_time',
      watermark: '30s',
      outputs: {
        'gold.ventes_live_par_pays': {
          window: { kind: 'tumbling', size: '1m' },
          groupBy: ['pays'],
          aggregates: { total_ventes: { fn: 'sum', field: 'montant' }, nb_transactions: { fn: 'count' } },
        },
      },
    },
  },
  jobs: {
    daily: { select: ['source:ventes', 'stream:ventes-live'], schedule: '0 2 * * *', timezone: 'UTC' },
  },
  serve: { host: '0.0.0.0', port: 8080, expose: ['gold.*'] },
};
