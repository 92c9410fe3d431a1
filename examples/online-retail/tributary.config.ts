import { checks, defineConfig, files } from 'tributary';

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
          UnitPrice: 'DOUBLE',
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
});
