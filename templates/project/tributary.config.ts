import { defineConfig, files } from 'tributary-data';

// A Tributary project: sources are ingested into bronze tables of the lake (./lake by default).
// Paths and URLs may use ${ENV_VAR:-default}.
export default defineConfig({
  sources: {
    sales: files({
      glob: '${SALES_DIR:-data/sales}/*.csv',
      into: 'bronze.sales',
      // Columns every file must have; typed columns that fail conversion send the row to bronze.sales_rejects.
      schema: {
        columns: {
          sale_id: 'BIGINT',
          sold_at: 'TIMESTAMP',
          customer: 'VARCHAR',
          amount: 'DECIMAL(12,2)',
          country: { type: 'VARCHAR', required: false },
        },
      },
      onError: 'reject', // or 'quarantine' (set the whole file aside) or 'fail' (stop the run)
    }),
  },
  tables: {
    // Fact tables are laid out by date: one folder of files per month of sold_at.
    'bronze.sales': { partitionBy: { column: 'sold_at', granularity: 'month' } },
  },
  // catalog: 'postgres://user@host:5432/db?schema=tributary',   // to share the catalog between machines
});
