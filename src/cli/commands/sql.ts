import { Command } from 'commander';
import { parseAsOf } from '../../lake/as-of.js';
import { outputFormat, print, withLake } from '../context.js';
import { renderRows } from '../output.js';

export function sqlCommand(): Command {
  return new Command('sql')
    .description('run a read-only SQL query (DuckDB dialect) over the lake; tables are named layer.table')
    .argument('<query>', 'a SELECT query, e.g. "SELECT count(*) FROM bronze.sales"')
    .option('--format <format>', 'table | json | csv', 'table')
    .option('--as-of <snapshot|timestamp>', 'read every table as of this time (or snapshot id)')
    .action(async (query: string, opts: { format: string; asOf?: string }, cmd: Command) => {
      const format = outputFormat(cmd, opts.format);
      // Values as the data holds them: dates as dates, decimals exactly, blobs as text (JSON: numbers where exact).
      const json = { numbers: format === 'json' };
      const result = await withLake(cmd, (l) => l.query(query, { json, ...(opts.asOf ? { asOf: parseAsOf(opts.asOf) } : {}) }));
      print(renderRows(format, result.columns, result.rows));
    });
}
