import { Command } from 'commander';
import { TributaryError } from '../../errors.js';
import { publishTable } from '../../publish/publish.js';
import { emit, stopOnSignals, withLake } from '../context.js';
import { renderTable } from '../output.js';

export function publishCommand(): Command {
  return new Command('publish')
    .description("send lake tables' new rows to their topics (`publish` in the config): each snapshot once, at least once end to end")
    .argument('[publications...]', 'publications to run (default all)')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const { signal, dispose } = stopOnSignals();
      try {
        const reports = await withLake(cmd, async (lake) => {
          const all = Object.keys(lake.config.publish);
          if (all.length === 0) {
            throw new TributaryError('CONFIG_INVALID', `no publication declared in ${lake.config.configFile ?? 'the config'}`, {
              hint: "add publish: { name: { table: 'silver.x', topic: 'x', key: 'id' } }",
            });
          }
          const out = [];
          for (const name of names.length ? names : all) out.push(await publishTable(lake, name, { signal }));
          return out;
        });
        emit(cmd, reports, () =>
          renderTable(
            ['publication', 'table', 'topic', 'snapshot', 'sent', 'rows chosen'],
            reports.map((r) => ({
              publication: r.publication,
              table: r.table,
              topic: r.topic,
              snapshot: r.snapshot ?? '',
              sent: r.sent,
              'rows chosen': r.selection,
            })),
          ),
        );
      } finally {
        dispose();
      }
    });
}
