import { Command } from 'commander';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { TributaryError } from '../../errors.js';
import { exportMonitoring } from '../../monitoring/export.js';
import { emit, projectDir } from '../context.js';
import { positiveInt } from '../options.js';

export function monitoringCommand(): Command {
  const monitoring = new Command('monitoring').description('Prometheus and Grafana files for this project');
  monitoring
    .command('export')
    .description('write prometheus.yml (scrape config), tributary-alerts.yml (alert rules) and grafana-dashboard.json')
    .argument('<dir>', 'folder to write into (created if missing)')
    .option('--target <host:port>', 'where Prometheus scrapes /metrics (default: serve.host:serve.port)')
    .option('--scrape-interval <duration>', 'Prometheus scrape and evaluation interval', '15s')
    .option('--lag-threshold <records>', 'stream lag that raises TributaryStreamLagHigh', (v) => positiveInt(v, '--lag-threshold'), 10_000)
    .action(async (dir: string, opts: { target?: string; scrapeInterval: string; lagThreshold: number }, cmd: Command) => {
      if (!/^\d+(ms|s|m|h)$/.test(opts.scrapeInterval))
        throw new TributaryError('INVALID_INPUT', `--scrape-interval: "${opts.scrapeInterval}" is not a Prometheus duration like 15s or 1m`);
      const config = await loadConfig(projectDir(cmd), { required: true });
      const result = exportMonitoring(config, path.resolve(dir), {
        scrapeInterval: opts.scrapeInterval,
        lagThreshold: opts.lagThreshold,
        ...(opts.target ? { target: opts.target } : {}),
      });
      emit(cmd, result, () => [...result.files.map((f) => `wrote ${f}`), `alert rules: ${result.rules.join(', ')}`].join('\n'));
    });
  return monitoring;
}
