import { checks, defineConfig, documents, files, http, sql } from 'tributary-data';

// Seed 000: invoices from three sources every day (files, a database export, a products API mapped to invoices),
// enriched with their country's region and currency from REST Countries, published to Kafka topic
// `factures-enriched` and landed again by a consumer, summed up hourly into the curated zone and served by an
// analytics API; scanned invoices dropped in inbox/ are read by OCR. Zones: raw = bronze, clean = silver,
// curated = gold, the consumer's streaming zone = the `streaming` layer. Before running (see README.md):
//   node examples/factures/simulator.mjs      # FakerAPI and REST Countries on http://127.0.0.1:8766
//   node examples/factures/load.mjs seed      # the seed's own days (or `load.mjs day` for a new one)
const db = '${FACTURES_DB:-mariadb://root@127.0.0.1:3306/factures}';
const fakerapi = '${FAKERAPI_URL:-http://127.0.0.1:8766/api/v2}';
const restcountries = '${RESTCOUNTRIES_URL:-http://127.0.0.1:8766/v3.1}';

export default defineConfig({
  name: 'factures',
  // The embedded log by default; TRIBUTARY_LOG=kafka://127.0.0.1:9092 publishes to (and consumes from) Kafka.
  log: '${TRIBUTARY_LOG:-embedded}',
  sources: {
    // The seed's "files" source: each day's invoices as CSV and as a JSON list (the same invoices twice).
    factures_files: files({ glob: ['landing/files/*/factures_files_*.csv', 'landing/files/*/factures_files_*.json'], into: 'bronze.factures_files' }),
    // The seed's "database export": the rows of each new day (a cursor on the date, the key breaking ties).
    factures_db: sql({ url: db, table: 'factures', into: 'bronze.factures_db', disposition: 'append', cursor: { column: 'date_facture' } }),
    // The seed's API source: 1,000 FakerAPI products a day, each mapped to an invoice by silver.factures_api.
    factures_api: http({
      baseUrl: fakerapi,
      path: '/products',
      params: { _quantity: 1000, _locale: 'fr_FR' },
      select: 'data',
      columns: { id: 'INTEGER', ean: 'VARCHAR', price: 'DECIMAL(18,2)' },
      into: 'bronze.fakerapi_products',
      raw: 'bronze.fakerapi_raw',
      timeout: '30s',
      retry: { attempts: 3, delay: '2s' },
    }),
    // API invoices already mapped, as files: the seed's own raw zone (raw/factures/api/<date>/), or another export.
    factures_api_files: files({ glob: 'landing/api/*/factures_api_*.json', into: 'bronze.factures_api_files' }),
    // REST Countries for the countries the invoices use and the table lacks (or held for more than 7 days): one
    // request for all of them. The lookup runs after the tables its query reads.
    countries: http({
      baseUrl: restcountries,
      path: '/alpha',
      params: { codes: '{keys}', fields: 'cca2,region,subregion,currencies' },
      lookup: {
        keys: 'SELECT pays FROM silver.factures_api UNION SELECT pays FROM silver.factures_files UNION SELECT pays FROM silver.factures_db',
        key: 'cca2',
        batch: 100,
        ttl: '7d',
      },
      columns: { cca2: 'VARCHAR', region: 'VARCHAR', subregion: 'VARCHAR', currencies: 'JSON' },
      into: 'bronze.countries',
      timeout: '30s',
      retry: { attempts: 3, delay: '2s' },
    }),
    // Scanned invoices (PDF, PNG, JPEG, TIFF) dropped in inbox/, moved to inbox/processed/ once committed.
    scans: documents({ inbox: 'inbox', into: 'bronze.documents', languages: ['fra', 'eng'] }),
  },
  checks: {
    'silver.factures_api': [
      checks.notNull('id_facture'),
      checks.notNull('date_facture'),
      checks.unique(['date_facture', 'id_facture']),
      checks.acceptedValues('pays', ['FR', 'DE', 'ES', 'IT']),
      checks.range('montant_ht', { min: 0 }),
    ],
    'silver.factures': [
      checks.unique(['source', 'date_facture', 'id_facture']),
      checks.acceptedValues('mode_paiement', ['CB', 'VIREMENT', 'PAYPAL', 'CHEQUE']),
      // Every invoice's country found by REST Countries.
      checks.notNull('country_region'),
    ],
    'gold.analytics': [checks.unique('date'), checks.rowCount({ min: 1 })],
  },
  // The seed's publish_enriched_to_kafka: each enriched API invoice as JSON, once (the snapshot published is kept).
  publish: {
    factures_enriched: { table: 'silver.factures_api_enriched', topic: 'factures-enriched', key: 'id_facture', partitions: 3 },
  },
  // The seed's consumer: what the topic holds, landed exactly once in the streaming zone (parsed by
  // models/streaming/factures_enriched.sql).
  streams: {
    'factures-enriched': {
      topic: 'factures-enriched',
      eventTime: 'date_facture',
      watermark: '1d',
      eventTimeLimits: { maxAhead: false },
      landing: 'streaming.factures_enriched_raw',
    },
  },
  jobs: {
    // multi_source_ingestion_factures: the three sources in parallel, then the enrichment, then the publication.
    daily: {
      select: [
        'source:factures_files',
        'source:factures_db',
        'source:factures_api',
        'source:factures_api_files',
        '+publish:factures_enriched',
        'silver.factures',
      ],
      schedule: '@daily',
      retries: 0,
    },
    // batch_analytics_factures: hourly, one retry after 2 minutes.
    analytics: {
      select: ['gold.analytics_by_country', 'gold.analytics_by_region', 'gold.analytics_by_payment', 'gold.analytics_by_source', 'gold.analytics'],
      schedule: '@hourly',
      retries: 1,
      retryDelay: '2m',
    },
    // The consumer, every minute: what the topic received since.
    streaming: { select: ['stream:factures-enriched', 'streaming.factures_enriched'], schedule: '* * * * *' },
    // ocr_batch_pipeline: the documents of the inbox, read and sorted.
    ocr: { select: ['source:scans+'] },
  },
  sensors: {
    // Every minute, as the seed's FileSensor: a file in the inbox runs the OCR job.
    inbox: { kind: 'files', glob: 'inbox/*', job: 'ocr', interval: '1m' },
  },
  serve: {
    port: 8085,
    expose: ['gold.*'],
    // The seed's analytics API paths (/api/analytics/…): its FastAPI router is replaced by these endpoints.
    endpointsPath: '/api',
    endpoints: {
      'analytics/summary': {
        kind: 'document',
        table: 'gold.analytics',
        column: 'summary',
        params: { date: 'date' },
        latest: 'date',
        description: 'Summary of a day (the latest without ?date=): invoices, amounts, by country, region and payment',
        schema: summarySchema(),
      },
      'analytics/by_region': {
        kind: 'document',
        table: 'gold.analytics',
        column: 'by_region',
        params: { date: 'date' },
        latest: 'date',
        description: 'Invoices and TTC amounts by region (country_region) on a day',
        schema: { type: 'object', required: ['date', 'by_region'], properties: { date: { type: 'string', format: 'date' }, by_region: groups(false) } },
      },
      'analytics/by_country': {
        kind: 'document',
        table: 'gold.analytics',
        column: 'by_country',
        params: { date: 'date' },
        latest: 'date',
        description: 'Invoices and amounts by country (pays) on a day',
        schema: { type: 'object', required: ['date', 'by_country'], properties: { date: { type: 'string', format: 'date' }, by_country: groups(true) } },
      },
      'analytics/dates': {
        kind: 'values',
        table: 'gold.analytics',
        column: 'date',
        field: 'dates',
        order: 'desc',
        description: 'Days with a summary, latest first',
      },
    },
    tables: {
      'gold.analytics_by_country': { dimensions: ['date', 'pays'] },
      'gold.analytics_by_region': { dimensions: ['date', 'region'] },
      'gold.analytics_by_payment': { dimensions: ['date', 'mode_paiement'] },
      'gold.analytics_by_source': { dimensions: ['date', 'source'] },
      'gold.ocr_documents': { key: 'file_hash', dimensions: ['doc_type', 'status'] },
    },
    dashboard: {
      title: 'Factures — Tributary',
      locale: 'fr',
      pages: [
        {
          id: 'analytics',
          title: 'Analytics',
          charts: [
            {
              title: 'Factures (API, dernier jour)',
              type: 'kpi',
              source: '/tables/gold/analytics?sort=-date&limit=1',
              y: ['total_factures', 'montant_ttc_total'],
            },
            {
              title: 'TTC par pays',
              type: 'bar',
              source: '/tables/gold/analytics_by_country?sort=-date,pays&limit=4',
              x: 'pays',
              y: 'montant_ttc_sum',
              filter: 'date',
            },
            {
              title: 'TTC par région',
              type: 'doughnut',
              source: '/tables/gold/analytics_by_region?sort=-date&limit=20',
              x: 'region',
              y: 'montant_ttc_sum',
              filter: 'date',
            },
            { title: 'Par mode de paiement', type: 'table', source: '/tables/gold/analytics_by_payment?sort=-date,mode_paiement', filter: 'date' },
            { title: 'Factures par source', type: 'table', source: '/tables/gold/analytics_by_source?sort=-date,source', filter: 'date' },
            { title: 'Jours disponibles', type: 'table', source: '/tables/gold/analytics?sort=-date' },
          ],
        },
        {
          id: 'ocr',
          title: 'OCR',
          charts: [{ title: 'Documents lus', type: 'table', source: '/tables/gold/ocr_documents?sort=-ingested_at', filter: 'status' }],
        },
      ],
    },
  },
});

/** JSON Schema of seed 000's summary (`analytics_summary_<date>.json`). */
function summarySchema(): Record<string, unknown> {
  return {
    type: 'object',
    required: ['date', 'total_factures', 'montant_ttc_total', 'montant_ht_total', 'by_country', 'by_region', 'by_payment'],
    properties: {
      date: { type: 'string', format: 'date' },
      total_factures: { type: 'integer' },
      montant_ttc_total: { type: 'number' },
      montant_ht_total: { type: 'number' },
      by_country: groups(true),
      by_region: groups(false),
      by_payment: groups(false),
    },
  };
}

/** `{ <key>: { count, montant_ttc_sum[, montant_ht_sum] } }`, `UNKNOWN` for a missing key. */
function groups(withHt: boolean): Record<string, unknown> {
  const sums: Record<string, unknown> = { count: { type: 'integer' }, montant_ttc_sum: { type: 'number' } };
  if (withHt) sums.montant_ht_sum = { type: 'number' };
  return {
    type: 'object',
    additionalProperties: { type: 'object', required: Object.keys(sums), properties: sums, additionalProperties: false },
  };
}
