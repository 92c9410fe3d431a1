import { checks, defineConfig, files } from 'tributary';

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
      schema: { columns: { id_achat: 'BIGINT', id_client: 'BIGINT', date_achat: 'VARCHAR', montant: 'DOUBLE', produit: 'VARCHAR' } },
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
});
