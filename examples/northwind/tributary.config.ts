import { checks, defineConfig, sqlTables } from 'tributary-data';

// Seed 001's batch half: six Northwind tables read from PostgreSQL into bronze, a denormalised sales master in
// silver, and the KPI dashboard and RFM analysis in gold. Load the database first (see README.md):
//   node examples/northwind/load.mjs            # into postgres://postgres@127.0.0.1:5432/northwind
// NORTHWIND_DB names another database.
const db = '${NORTHWIND_DB:-postgres://postgres@127.0.0.1:5432/northwind}';
// NORTHWIND_CDC=1: orders, their lines and customers follow PostgreSQL's write-ahead log instead (the server needs
// wal_level = logical): their changes land in bronze.<table>_changes, and bronze.<table> is kept at the current state.
const cdc = (table: string) => ({ disposition: 'cdc' as const, into: `bronze.${table}_changes`, current: `bronze.${table}` });
const followed = process.env.NORTHWIND_CDC === '1';

export default defineConfig({
  name: 'northwind',
  sources: sqlTables(
    db,
    {
      // Orders and their lines only grow: each run reads those past the last order read.
      orders: followed ? cdc('orders') : { disposition: 'append', cursor: { column: 'order_id' } },
      order_details: followed ? cdc('order_details') : { disposition: 'append', cursor: { column: 'order_id' } }, // tie-breaker: the key (order_id, product_id)
      // Customers change (an address, a country): bronze keeps the current row per customer.
      customers: followed ? cdc('customers') : { disposition: 'merge' },
      // Small reference tables, read whole at every run.
      products: {},
      categories: {},
      employees: {},
    },
    { into: 'bronze' },
  ),
  checks: {
    'bronze.orders': [checks.unique('order_id'), checks.rowCount({ min: 1 })],
    'bronze.customers': [checks.unique('customer_id')],
    'silver.sales_master': [
      checks.notNull('order_id'),
      checks.notNull('customer_id'),
      checks.notNull('order_date'),
      checks.notNull('line_total'),
      checks.unique(['order_id', 'product_id']),
      checks.range('quantity', { min: 1 }),
      checks.range('discount', { min: 0, max: 1 }),
      checks.relationships('customer_id', 'bronze.customers'),
    ],
    'gold.kpi_revenue': [checks.rowCount({ min: 1, max: 1 })],
    'gold.kpi_top_countries': [checks.rowCount({ min: 1, max: 3 }), checks.unique('country')],
    'gold.kpi_sales_by_category': [checks.unique('category_name')],
    'gold.rfm': [
      checks.unique('customer_id'),
      checks.range('r_score', { min: 1, max: 5 }),
      checks.acceptedValues('segment', ['Champions', 'Loyal', 'Potential loyalist', 'New customers', 'At risk', 'Hibernating', 'Lost', 'Need attention']),
    ],
  },
  serve: {
    port: 8082,
    expose: ['gold.*'],
    tables: {
      'gold.kpi_top_countries': { key: 'country' },
      'gold.kpi_sales_by_category': { key: 'category_name', measures: ['sum(revenue)', 'sum(quantity)'], dimensions: ['category_name'] },
      'gold.rfm': { key: 'customer_id', dimensions: ['segment', 'country'], measures: ['count(*)', 'sum(monetary)', 'avg(recency_days)'] },
    },
    dashboard: {
      title: 'Northwind — Tributary',
      locale: 'fr',
      pages: [
        {
          id: 'kpi',
          title: 'Tableau de bord KPI',
          charts: [
            { title: "Chiffre d'affaires total", type: 'kpi', source: '/tables/gold/kpi_revenue', y: 'revenue' },
            { title: 'Top 3 pays', type: 'bar', source: '/tables/gold/kpi_top_countries?sort=rank', x: 'country', y: 'revenue' },
            { title: 'Ventes par catégorie', type: 'bar', source: '/tables/gold/kpi_sales_by_category?sort=-revenue', x: 'category_name', y: 'revenue' },
          ],
        },
        {
          id: 'rfm',
          title: 'Analyse RFM',
          charts: [
            { title: 'Clients par segment', type: 'doughnut', source: '/aggregations/gold/rfm?measure=count(*)&by=segment', x: 'segment', y: 'count(*)' },
            { title: 'Clients', type: 'table', source: '/tables/gold/rfm?sort=-monetary', filter: 'segment' },
          ],
        },
      ],
    },
  },
});
