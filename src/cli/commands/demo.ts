import path from 'node:path';
import { Command } from 'commander';
import { runDemo, type DemoReport } from '../../demo/demo.js';
import { emit, globals } from '../context.js';
import { Progress, renderTable } from '../output.js';
import { nonNegativeInt } from '../options.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('copy the retail example, generate its data, run ingestion, models and checks, and print a summary')
    .argument('[dir]', 'folder for the demo project', 'tributary-demo')
    .option('--seed <n>', 'seed of the data generator (same seed, same data)', '42')
    .option('--rows <n>', 'purchase rows to generate', '10000')
    .option('--force', 'replace a previous demo in that folder')
    .action(async (dir: string, opts: { seed: string; rows: string; force?: boolean }, cmd: Command) => {
      const progress = new Progress(!globals(cmd).json);
      const report = await runDemo(dir, {
        seed: nonNegativeInt(opts.seed, '--seed'),
        rows: nonNegativeInt(opts.rows, '--rows'),
        force: Boolean(opts.force),
        onStep: (step) => progress.update(`demo: ${step}…`),
      }).finally(() => progress.done());
      emit(cmd, report, () => describeDemo(report, dir));
      if (report.models.status === 'failed') process.exitCode = 1;
    });
}

function money(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function describeDemo(r: DemoReport, dir: string): string {
  const built = r.models.models.filter((m) => m.status === 'success').length;
  const lines = [
    `Tributary demo — retail pipeline (seed ${r.data.seed}) in ${r.dir}`,
    '',
    `Ingested ${r.ingest.sources.reduce((n, s) => n + s.ingested.length, 0)} files, ${r.ingest.sources.reduce((n, s) => n + s.rows, 0)} rows; ` +
      `${r.ingest.sources.reduce((n, s) => n + s.rejectedRows, 0)} rows with values of the wrong type went to bronze.*_rejects.`,
    `Built ${built} of ${r.models.models.length} models; the whole demo took ${r.seconds.toFixed(1)} s.`,
    '',
    'Tables',
    renderTable(['table', 'rows'], r.tables),
  ];
  if (r.quarantined.length) {
    lines.push('', 'Quarantined files');
    for (const q of r.quarantined) lines.push(`  ${q.path}: ${q.reason}`);
  }
  if (r.droppedInSilver.length) lines.push('', 'Rows set aside in silver (with their reason)', renderTable(['table', 'reason', 'rows'], r.droppedInSilver));
  lines.push('', r.checksNotPassing.length ? 'Checks not passing' : 'All checks pass');
  for (const c of r.checksNotPassing) {
    lines.push(`  ${c.severity === 'error' ? 'FAIL' : 'WARN'} ${c.table} ${c.check}: ${c.status === 'error' ? c.error : `${c.failingRows} failing row(s)`}`);
  }
  for (const m of r.models.models) if (m.error) lines.push(`  ${m.model}: ${m.error}`);
  const k = r.kpis;
  lines.push(
    '',
    'KPIs',
    `  revenue ${money(k.revenue)} from ${k.purchases} purchases by ${k.clients} clients`,
    `  top countries: ${k.topCountries.map((c) => `${c.pays} ${money(c.ca)}`).join(', ')}`,
    `  top products:  ${k.topProducts.map((p) => `${p.produit} ${money(p.ca)} (${p.nb_ventes})`).join(', ')}`,
    `  segments:      ${k.segments.map((s) => `${s.segment} ${s.clients}`).join(', ')}`,
    '',
    'Explore it:',
    `  cd ${path.relative(process.cwd(), r.dir) || dir}`,
    '  npx tributary lake tables',
    '  npx tributary sql "SELECT * FROM gold.kpi_ca_par_mois ORDER BY mois"',
    '  npx tributary quarantine ls',
    '  npx tributary graph',
  );
  return lines.join('\n');
}
