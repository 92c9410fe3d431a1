import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { errorMessage } from '../../errors.js';
import { Lake } from '../../lake/lake.js';
import { checkContracts, discoverContracts } from '../../registry/contracts.js';
import { registryClient } from '../../registry/open.js';
import { emit, projectDir } from '../context.js';

/**
 * `tributary contracts check|register`: the project's schemas (`contracts/<subject>.avsc`) against the registry —
 * seed 003's `mvn schema-registry:test-compatibility` as a CI gate, and their publication.
 */
export function contractsCommand(): Command {
  const command = new Command('contracts').description("the project's schemas (contracts/<subject>.avsc|.json) and the schema registry");
  const withRegistry = async (cmd: Command, fn: (registry: ReturnType<typeof registryClient>, dir: string) => Promise<void>) => {
    const config = await loadConfig(projectDir(cmd), { required: true });
    let lake: Lake | undefined;
    try {
      const registry = registryClient(config, async () => (lake ??= await Lake.open(config)).catalog.driver);
      await fn(registry, path.resolve(config.projectDir, (cmd.opts() as { dir?: string }).dir ?? 'contracts'));
    } finally {
      await lake?.close();
    }
  };
  command
    .command('check')
    .description("compare each schema with its subject's versions under the subject's compatibility level; exit 1 on a breaking change")
    .option('--dir <folder>', 'the contracts folder (default: contracts/ in the project)')
    .action(async (_opts: unknown, cmd: Command) =>
      withRegistry(cmd, async (registry, dir) => {
        const results = await checkContracts(registry, discoverContracts(dir));
        const failed = results.filter((r) => r.status === 'incompatible' || r.status === 'invalid');
        emit(cmd, results, () =>
          [
            ...results.map((r) =>
              [
                `${r.subject}: ${r.status === 'new' ? 'new subject (nothing to break)' : r.status === 'compatible' ? 'compatible' : r.status === 'invalid' ? 'INVALID' : 'INCOMPATIBLE'}  (${path.relative(process.cwd(), r.file) || r.file})`,
                ...r.messages.map((m) => `  - ${m}`),
              ].join('\n'),
            ),
            failed.length
              ? `${failed.length} of ${results.length} schema(s) would break their subject`
              : `${results.length} schema(s) checked: none breaks its subject`,
          ].join('\n'),
        );
        if (failed.length) process.exitCode = 1;
      }),
    );
  command
    .command('register')
    .description('register each schema under its subject (refused, naming why, when it breaks compatibility)')
    .option('--dir <folder>', 'the contracts folder (default: contracts/ in the project)')
    .action(async (_opts: unknown, cmd: Command) =>
      withRegistry(cmd, async (registry, dir) => {
        const results: { subject: string; id?: number; version?: number; error?: string }[] = [];
        for (const c of discoverContracts(dir)) {
          try {
            results.push({ subject: c.subject, ...(await registry.register(c.subject, { schema: c.schema, schemaType: c.schemaType })) });
          } catch (err) {
            if ((err as { errorCode?: number }).errorCode === undefined) throw err;
            results.push({ subject: c.subject, error: errorMessage(err) });
          }
        }
        emit(cmd, results, () =>
          results.map((r) => (r.error ? `${r.subject}: REFUSED: ${r.error}` : `${r.subject}: id ${r.id}, version ${r.version}`)).join('\n'),
        );
        if (results.some((r) => r.error)) process.exitCode = 1;
      }),
    );
  return command;
}
