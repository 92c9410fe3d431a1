import { checks, defineConfig, files } from 'tributary-data';

// Seed 002 reproduced: clients and purchases (achats) CSV → bronze → silver (validated, with every dropped row kept
// in *_rejected with its reason) → gold dimensions, fact table and KPIs.
// `tributary demo` generates the data (data/) with a seeded generator that injects realistic dirt.
export default defineConfig({
  name: 'retail',
  sources: {
    clients: files({
      glob: '${RETAIL_SOURCE_DIR:-data}/clients*.csv',
      into: 'bronze.clients',
      schema: { columns: { id_client: 'BIGINT', nom: 'VARCHAR', email: 'VARCHAR', date_inscription: 'DATE', pays: 'VARCHAR' } },
    }),
    achats: files({
      glob: '${RETAIL_SOURCE_DIR:-data}/achats*.csv',
      into: 'bronze.achats',
      // date_achat stays text in bronze: silver normalises its several formats and sets aside what does not parse.
      schema: { columns: { id_achat: 'BIGINT', id_client: 'BIGINT', date_achat: 'VARCHAR', montant: 'DECIMAL(10,2)', produit: 'VARCHAR' } },
    }),
  },
  checks: {
    // Warnings document known dirt in the sources; errors guard what silver and gold promise.
    'bronze.clients': [checks.unique('id_client', { severity: 'warn', name: 'source clients are unique' })],
    'silver.clients': [checks.unique('id_client'), checks.notNull('email'), checks.notNull('pays')],
    'silver.achats': [
      checks.unique('id_achat'),
      checks.notNull('date_achat'),
      // The same bounds as the validation rule in models/silver/achats_validated.sql.
      checks.range('montant', { min: Number(process.env.RETAIL_MIN_AMOUNT || 0), max: Number(process.env.RETAIL_MAX_AMOUNT || 10000) }),
      checks.rowCount({ min: 1 }),
    ],
    'gold.dim_clients': [checks.unique('id_client'), checks.acceptedValues('segment', ['Platinum', 'Gold', 'Silver', 'Bronze'])],
    'gold.dim_produits': [checks.unique('produit')],
    'gold.fact_ventes': [
      checks.unique('id_achat'),
      checks.relationships('id_client', 'gold.dim_clients', 'id_client', { severity: 'warn', name: 'purchases of known clients' }),
    ],
    'gold.kpi_top_clients': [checks.rowCount({ max: 100 })],
  },
  // Seed 000's Airflow DAG, as a job of assets: ingest, check, build silver and gold every night at 02:00 Paris time
  // (tasks in dependency order, retried with backoff), and as soon as new files land (a file sensor).
  // `tributary dev` runs the schedule and the sensor; `tributary jobs run nightly` runs it now.
  // The operational store sync (sync:*) is a job of its own: it needs the PostgreSQL store.
  jobs: {
    nightly: { select: ['source:*', 'check:*', 'silver', 'gold'], schedule: '0 2 * * *', timezone: 'Europe/Paris', retries: 2, retryDelay: '30s' },
    store: { select: ['sync:*'] },
  },
  sensors: {
    new_files: { kind: 'files', glob: '${RETAIL_SOURCE_DIR:-data}/*.csv', job: 'nightly', interval: '1m' },
  },
  // Seed 002's operational store (MongoDB there), on PostgreSQL: `tributary sync`.
  store: {
    url: '${RETAIL_STORE_URL:-postgres://postgres@127.0.0.1:5432/test?schema=retail_store}',
    tables: {
      'gold.dim_clients': { key: 'id_client' },
      'gold.dim_produits': { key: 'id_produit' },
      'gold.fact_ventes': { key: 'id_achat' },
      'gold.kpi_ca_par_jour': { key: 'date' },
      'gold.kpi_ca_par_mois': { key: 'mois' },
      'gold.kpi_ca_par_pays': { key: 'pays' },
      'gold.kpi_volume_par_produit': { key: 'produit' },
      'gold.kpi_top_clients': { key: 'id_client' },
      'gold.kpi_stats_distribution': { key: 'produit' },
    },
  },
  serve: {
    port: 8080,
    expose: ['gold.*'],
    tables: {
      'gold.dim_clients': { key: 'id_client', dimensions: ['pays', 'segment'], measures: ['sum(total_ca)', 'count(*)', 'avg(total_ca)'] },
      'gold.fact_ventes': {
        key: 'id_achat',
        dimensions: ['produit', 'segment'],
        measures: ['sum(montant)', 'count(*)', 'avg(montant)'],
        timeColumn: 'date_achat',
      },
      'gold.dim_produits': { key: 'id_produit' },
    },
    // Seed 002's API, declared on top of the generic table API.
    endpoints: {
      clients: { kind: 'list', table: 'gold.dim_clients', key: 'id_client', filters: { pays: 'pays', segment: 'segment' }, sort: '-total_ca' },
      produits: { kind: 'list', table: 'gold.dim_produits', key: 'id_produit', sort: 'produit' },
      ventes: {
        kind: 'list',
        table: 'gold.fact_ventes',
        key: 'id_achat',
        sort: 'date_achat',
        filters: { client: 'id_client', produit: 'produit', date_debut: { column: 'date_achat', op: 'gte' }, date_fin: { column: 'date_achat', op: 'lte' } },
      },
      'kpis/ca-par-jour': { kind: 'list', table: 'gold.kpi_ca_par_jour', sort: 'date' },
      'kpis/ca-par-mois': { kind: 'list', table: 'gold.kpi_ca_par_mois', sort: 'mois' },
      'kpis/ca-par-pays': { kind: 'list', table: 'gold.kpi_ca_par_pays', sort: '-ca' },
      'kpis/volume-par-produit': { kind: 'list', table: 'gold.kpi_volume_par_produit', sort: '-nb_ventes' },
      'kpis/top-clients': { kind: 'list', table: 'gold.kpi_top_clients', sort: 'rang' },
      'kpis/stats-distribution': { kind: 'list', table: 'gold.kpi_stats_distribution', sort: 'produit' },
      'pipeline/status': { kind: 'pipeline', report: 'status' },
      'pipeline/refresh-times': { kind: 'pipeline', report: 'refresh-times' },
      'aggregations/ca-total': {
        kind: 'aggregate',
        table: 'gold.fact_ventes',
        measures: { ca_total: 'sum(montant)', nb_achats: 'count(*)', panier_moyen: 'round(avg(montant), 2)' },
      },
      'aggregations/ca-par-periode': {
        kind: 'aggregate',
        table: 'gold.fact_ventes',
        measures: { ca: 'sum(montant)', nb_achats: 'count(*)' },
        period: { column: 'date_achat', param: 'periode', values: { jour: 'day', mois: 'month', annee: 'year' } },
      },
    },
    // Seed 002's Streamlit pages.
    dashboard: {
      title: 'Retail — Tributary',
      // The dashboard's own words (menus, run pages) in the language of the project's pages.
      locale: 'fr',
      pages: [
        {
          id: 'overview',
          title: "Vue d'ensemble",
          charts: [
            { title: 'Indicateurs', type: 'kpi', source: '/aggregations/ca-total' },
            { title: 'CA par mois', type: 'bar', source: '/kpis/ca-par-mois', x: 'mois', y: 'ca' },
            { title: 'CA par pays', type: 'doughnut', source: '/kpis/ca-par-pays', x: 'pays', y: 'ca' },
            { title: 'Top clients', type: 'table', source: '/kpis/top-clients?limit=10' },
          ],
        },
        {
          id: 'revenue',
          title: "Chiffre d'affaires",
          charts: [
            {
              title: 'CA par période',
              type: 'line',
              source: '/aggregations/ca-par-periode',
              x: 'periode',
              y: ['ca'],
              granularity: { param: 'periode', choices: ['mois', 'jour', 'annee'] },
            },
            {
              title: 'Achats par période',
              type: 'bar',
              source: '/aggregations/ca-par-periode',
              x: 'periode',
              y: 'nb_achats',
              granularity: { param: 'periode', choices: ['mois', 'jour', 'annee'] },
            },
          ],
        },
        {
          id: 'clients',
          title: 'Clients',
          charts: [
            {
              title: 'Clients par segment',
              type: 'doughnut',
              source: '/aggregations/gold/dim_clients?measure=count(*)&by=segment',
              x: 'segment',
              y: 'count(*)',
            },
            { title: 'CA moyen par pays', type: 'bar', source: '/aggregations/gold/dim_clients?measure=avg(total_ca)&by=pays', x: 'pays', y: 'avg(total_ca)' },
            { title: 'Liste des clients', type: 'table', source: '/clients?limit=50', filter: 'pays' },
          ],
        },
        {
          id: 'products',
          title: 'Produits',
          charts: [
            { title: 'Volume par produit', type: 'bar', source: '/kpis/volume-par-produit', x: 'produit', y: 'nb_ventes' },
            { title: 'Distribution des prix', type: 'bar', source: '/kpis/stats-distribution', x: 'produit', y: ['min', 'q1', 'mediane', 'q3', 'max'] },
            { title: 'Statistiques', type: 'table', source: '/kpis/stats-distribution' },
          ],
        },
        {
          id: 'pipeline',
          title: 'Pipeline',
          charts: [
            { title: 'Tables', type: 'table', source: '/pipeline/status', field: 'tables' },
            { title: 'Dernières exécutions', type: 'table', source: '/pipeline/status', field: 'runs' },
            { title: 'Temps de rafraîchissement', type: 'table', source: '/pipeline/refresh-times', field: 'tables' },
            { title: 'Contrôles en échec', type: 'table', source: '/pipeline/status', field: 'failing_checks' },
          ],
        },
      ],
    },
  },
});
