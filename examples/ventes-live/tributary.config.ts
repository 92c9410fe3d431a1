import { agg, defineConfig, stream, windows } from 'tributary-data';

/**
 * Seed 001's streaming view: live sales by country from the `ventes-temps-reel` topic.
 * The log is the embedded one by default; set TRIBUTARY_LOG=kafka://127.0.0.1:9092 (or edit the line) to run the
 * very same stream on Apache Kafka.
 */
export default defineConfig({
  name: 'ventes-live',
  log: '${TRIBUTARY_LOG:-embedded}',
  streams: {
    'ventes-live': stream({
      topic: 'ventes-temps-reel',
      partitions: 3,
      fields: { id: 'string', event_time: 'timestamp', pays: 'string', montant: 'number', produit: 'string?' },
      eventTime: 'event_time',
      watermark: '30s',
      outputs: {
        // Final totals per country and minute, appended when the minute closes (watermark past its end).
        'gold.ventes_live_par_pays': {
          window: windows.tumbling('1m'),
          groupBy: ['pays'],
          aggregates: { total_ventes: agg.sum('montant'), nb_transactions: agg.count() },
        },
        // The last 5 minutes, every minute; open windows are visible as they fill (is_final = false).
        'gold.ventes_5min_glissantes': {
          window: windows.hopping('5m', '1m'),
          groupBy: ['pays'],
          aggregates: { total_ventes: agg.sum('montant'), nb_transactions: agg.count(), panier_moyen: agg.avg('montant') },
          emit: 'on-update',
        },
      },
      // Defaults, written out: raw landing, dead letters and late events.
      landing: 'bronze.ventes_live_raw',
      dlq: { table: 'bronze.ventes_live_dlq', topic: 'ventes-temps-reel.dlq' },
      lateTable: 'bronze.ventes_live_late',
    }),
  },
  // `tributary serve`: the live view of seed 001 (the dashboard refreshes as new snapshots land).
  serve: {
    tables: {
      'gold.ventes_live_par_pays': { measures: ['sum(total_ventes)', 'sum(nb_transactions)'], dimensions: ['pays'], timeColumn: 'window_start' },
    },
    dashboard: {
      title: 'Ventes en temps réel',
      // The dashboard's own words (menus, run pages) in the language of the project's pages.
      locale: 'fr',
      pages: [
        {
          id: 'live',
          title: 'En direct',
          charts: [
            {
              title: 'Ventes par pays (fenêtres closes)',
              type: 'bar',
              source: '/aggregations/gold/ventes_live_par_pays?measure=sum(total_ventes)&by=pays',
              x: 'pays',
              y: 'sum(total_ventes)',
            },
            {
              title: '5 dernières minutes, par pays (fenêtres ouvertes)',
              type: 'table',
              source: '/tables/gold/ventes_5min_glissantes?is_final=false&sort=-window_start&limit=50',
              filter: 'pays',
            },
            { title: 'Dernières minutes closes', type: 'table', source: '/tables/gold/ventes_live_par_pays?sort=-window_start&limit=50', filter: 'pays' },
          ],
        },
      ],
    },
  },
});
