import { Command } from 'commander';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { openLog } from '../../log/open.js';
import { produceFile, produceGenerated } from '../../produce/produce.js';
import { createSerde } from '../../serdes/index.js';
import { Lake } from '../../lake/lake.js';
import { serdeContext } from '../../registry/open.js';
import { emit, projectDir, stopOnSignals } from '../context.js';
import { Progress } from '../output.js';
import { positiveInt, positiveNumber, share } from '../options.js';

export function produceCommand(): Command {
  return new Command('produce')
    .description('publish records to a topic of the configured log: an NDJSON file (one record per line), a JSON array file, or generated sales events')
    .argument('<topic>', 'topic (created if missing)')
    .requiredOption(
      '--from <file|generator>',
      "an NDJSON file (lines sent as they are) or a JSON array file (one record per element), or 'generator' for sales events",
    )
    .option('--partitions <n>', 'partitions when the topic is created', (v) => positiveInt(v, '--partitions'), 1)
    .option('--key <field>', 'file: use this JSON field as the record key')
    .option('--format <kind>', "the values' format (default: that of the stream reading the topic, else json: lines sent as they are)")
    .option(
      '--schema <file>',
      "the writer schema, registered (or found) under --subject in the schema registry: an .avsc (Avro) or a .json JSON Schema (values validated, in Confluent's wire format unless --wire plain)",
    )
    .option('--subject <name>', 'the subject the schema is registered under (default <topic>-value)')
    .option('--wire <plain|confluent>', "json with --schema: 'confluent' (default) frames each value with the schema id; 'plain' sends JSON text")
    .option('--count <n>', 'generator: events to send (default: until Ctrl-C)', (v) => positiveInt(v, '--count'))
    .option('--rate <n>', 'generator: events per second', (v) => positiveNumber(v, '--rate'), 100)
    .option('--no-pace', 'generator: as fast as possible, on a virtual clock advancing 1/rate s per event')
    .option('--late-share <x>', 'generator: share of late events (0–1)', (v) => share(v, '--late-share'), 0)
    .option('--poison-share <x>', 'generator: share of poison pills (0–1)', (v) => share(v, '--poison-share'), 0)
    .option('--countries <list>', 'generator: comma-separated countries')
    .option('--seed <n>', 'generator: seed, for reproducible events', (v) => positiveInt(v, '--seed'))
    .action(async (topic: string, opts: ProduceOpts, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      // The values are written in the format the stream reading this topic expects, unless told otherwise.
      const reader = Object.entries(config.streams).find(([, s]) => s.topic === topic);
      const kind = opts.format ?? (opts.schema && path.extname(opts.schema) === '.json' ? 'json' : 'avro');
      const spec =
        opts.schema || opts.subject
          ? {
              kind,
              ...(opts.schema ? { schema: path.resolve(opts.schema) } : {}),
              ...(opts.subject ? { subject: opts.subject } : {}),
              ...(kind === 'json' ? { wire: opts.wire ?? 'confluent' } : {}),
            }
          : (opts.format ?? reader?.[1].format);
      // The embedded registry lives in the catalog: the lake is opened only if the format asks for a schema.
      let lake: Lake | undefined;
      const context = { ...serdeContext(config, async () => (lake ??= await Lake.open(config)).catalog.driver), topic };
      const format = createSerde(spec, opts.format || opts.schema ? '--format' : `streams.${reader?.[0] ?? ''}.format`, context);
      const log = await openLog(config.log);
      const controller = stopOnSignals();
      const progress = new Progress(true);
      try {
        await log.createTopic(topic, opts.partitions);
        const common = { format, signal: controller.signal, onProgress: (n: number) => progress.update(`${topic}: ${n} records acknowledged`) };
        const report =
          opts.from === 'generator'
            ? await produceGenerated(log, topic, {
                ...common,
                rate: opts.rate,
                pace: opts.pace,
                lateShare: opts.lateShare,
                poisonShare: opts.poisonShare,
                ...(opts.count !== undefined ? { count: opts.count } : {}),
                ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
                ...(opts.countries
                  ? {
                      countries: opts.countries
                        .split(',')
                        .map((c) => c.trim())
                        .filter(Boolean),
                    }
                  : {}),
              })
            : await produceFile(log, topic, path.resolve(opts.from), { ...common, ...(opts.key ? { keyField: opts.key } : {}) });
        progress.done();
        emit(
          cmd,
          report,
          () =>
            `${topic}: ${report.sent} records published and acknowledged (${report.bytes} bytes)${report.late !== undefined ? ` · ${report.late} late · ${report.poison} poison pills` : ''}`,
        );
      } finally {
        controller.dispose();
        await log.close();
        await lake?.close();
      }
    });
}

interface ProduceOpts {
  from: string;
  partitions: number;
  key?: string;
  format?: string;
  schema?: string;
  wire?: string;
  subject?: string;
  count?: number;
  rate: number;
  pace: boolean;
  lateShare: number;
  poisonShare: number;
  countries?: string;
  seed?: number;
}
