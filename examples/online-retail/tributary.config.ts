import { checks, defineConfig, files } from 'tributary-data';

// UCI Online Retail: daily CSV files → bronze → silver.retail_sales → revenue by country / month and RFM.
// RETAIL_DATA_DIR points at the daily files; the shipped sample (3 days) is used when it is unset.
export default defineConfig({
  name: 'online-retail',
  sources: {
    retail: files({
      glob: '${RETAIL_DATA_DIR:-data}/*.csv',
      into: 'bronze.online_retail',
      schema: {
        columns: {
          InvoiceNo: 'VARCHAR',
          StockCode: 'VARCHAR',
          Description: { type: 'VARCHAR', required: false },
          Quantity: 'BIGINT',
          InvoiceDate: 'TIMESTAMP',
          UnitPrice: 'DECIMAL(10,3)', // prices have up to 3 decimals: money stays exact
          CustomerID: { type: 'VARCHAR', required: false },
          Country: 'VARCHAR',
        },
      },
    }),
  },
  tables: {
    'bronze.online_retail': { partitionBy: { column: 'InvoiceDate', granularity: 'month' } },
  },
  checks: {
    'bronze.online_retail': [checks.rowCount({ min: 1 })],
    'silver.retail_sales': [
      checks.notNull('invoice_no'),
      checks.notNull('invoice_ts'),
      checks.range('quantity', { min: 1 }),
      checks.sql('positive unit prices', 'SELECT * FROM silver.retail_sales WHERE unit_price <= 0'),
      checks.sql('no cancellations', "SELECT * FROM silver.retail_sales WHERE invoice_no LIKE 'C%'"),
    ],
    'gold.retail_revenue_by_country': [checks.unique('country'), checks.notNull('revenue')],
    'gold.retail_revenue_by_month': [checks.unique('month')],
    'gold.retail_rfm': [
      checks.unique('customer_id'),
      checks.range('r_score', { min: 1, max: 5 }),
      checks.acceptedValues('segment', ['Champions', 'Loyal', 'Potential loyalist', 'New customers', 'At risk', 'Hibernating', 'Lost', 'Need attention']),
      checks.relationships('customer_id', 'silver.retail_sales'),
    ],
  },
  serve: {
    port: 8081,
    expose: ['gold.*'],
    tables: {
      'gold.retail_revenue_by_country': { key: 'country', measures: ['sum(revenue)', 'sum(invoices)'], dimensions: ['country'] },
      'gold.retail_revenue_by_month': { key: 'month', measures: ['sum(revenue)', 'sum(invoices)'], timeColumn: 'month' },
      'gold.retail_rfm': {
        key: 'customer_id',
        dimensions: ['segment', 'r_score', 'f_score', 'm_score'],
        measures: ['count(*)', 'sum(monetary)', 'avg(monetary)', 'avg(recency_days)'],
      },
    },
    dashboard: {
      title: 'Online Retail — Tributary',
      pages: [
        {
          id: 'revenue',
          title: 'Revenue',
          charts: [
            { title: 'Revenue by month', type: 'line', source: '/tables/gold/retail_revenue_by_month?sort=month', x: 'month', y: 'revenue' },
            { title: 'Revenue by country', type: 'bar', source: '/tables/gold/retail_revenue_by_country?sort=-revenue&limit=15', x: 'country', y: 'revenue' },
            { title: 'Countries', type: 'table', source: '/tables/gold/retail_revenue_by_country?sort=-revenue', filter: 'country' },
          ],
        },
        {
          id: 'rfm',
          title: 'RFM',
          charts: [
            {
              title: 'Customers by segment',
              type: 'doughnut',
              source: '/aggregations/gold/retail_rfm?measure=count(*)&by=segment',
              x: 'segment',
              y: 'count(*)',
            },
            {
              title: 'Average spend by segment',
              type: 'bar',
              source: '/aggregations/gold/retail_rfm?measure=avg(monetary)&by=segment',
              x: 'segment',
              y: 'avg(monetary)',
            },
            { title: 'Customers', type: 'table', source: '/tables/gold/retail_rfm?sort=-monetary&limit=50', filter: 'segment' },
          ],
        },
      ],
    },
  },
});
