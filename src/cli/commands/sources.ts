import { Command } from 'commander';
import { TributaryError } from '../../errors.js';
import { dropCdc } from '../../sources/sql/cdc.js';
import { PostgresReader } from '../../sources/sql/postgres.js';
import { emit, withLake } from '../context.js';

export function sourcesCommand(): Command {
  const sources = new Command('sources').description('declared sources: what they keep on the servers they read');
  sources
    .command('drop-slot')
    .description(
      "drop a cdc source's replication slot and publication on PostgreSQL, and forget its position: the server stops keeping WAL for it; the next ingestion starts over with a new snapshot",
    )
    .argument('<source>', 'a source with disposition cdc')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const result = await withLake(cmd, async (lake) => {
        const config = lake.config.sources[name];
        if (!config) {
          throw new TributaryError('SOURCE_NOT_FOUND', `source "${name}" is not declared in ${lake.config.configFile ?? 'the config'}`, {
            hint: `declared sources: ${Object.keys(lake.config.sources).join(', ') || 'none'}`,
          });
        }
        if (config.kind !== 'sql' || config.disposition !== 'cdc')
          throw new TributaryError('INVALID_INPUT', `source "${name}" is not a cdc source (it keeps no slot)`);
        const reader = await PostgresReader.connect(config.url, `sources.${name}`);
        try {
          return await dropCdc({ lake, name }, config, reader);
        } finally {
          await reader.close();
        }
      });
      emit(
        cmd,
        result,
        () =>
          `${result.dropped ? `dropped slot ${result.slot}` : `no slot ${result.slot} (already gone)`}; publication ${result.publication} dropped; ${name} will start over with a snapshot`,
      );
    });
  return sources;
}
