import { Command, CommanderError } from 'commander';
import { EXIT_CODES, TributaryError, categoryOf, errorMessage } from '../errors.js';
import { demoCommand } from './commands/demo.js';
import { ingestCommand } from './commands/ingest.js';
import { initCommand } from './commands/init.js';
import { lakeCommand } from './commands/lake.js';
import { checkCommand, graphCommand, runCommand } from './commands/models.js';
import { quarantineCommand } from './commands/quarantine.js';
import { runsCommand } from './commands/runs.js';
import { serveCommand } from './commands/serve.js';
import { registryCommand } from './commands/registry.js';
import { contractsCommand } from './commands/contracts.js';
import { sourcesCommand } from './commands/sources.js';
import { publishCommand } from './commands/publish.js';
import { syncCommand } from './commands/sync.js';
import { sqlCommand } from './commands/sql.js';
import { dlqCommand } from './commands/dlq.js';
import { monitoringCommand } from './commands/monitoring.js';
import { produceCommand } from './commands/produce.js';
import { streamCommand } from './commands/stream.js';
import { backfillCommand, backfillsCommand, jobsCommand, workerCommand } from './commands/jobs.js';
import { devCommand } from './commands/dev.js';
import { VERSION } from '../util/version.js';
import { buildCommand } from './commands/build.js';

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Tributary: a data platform on a Parquet lake with atomic snapshots — ingest, model, stream, serve.')
    .version(VERSION, '-v, --version')
    .option('--project <dir>', 'project folder holding tributary.config.ts (default: current folder)')
    .option('--json', 'machine-readable JSON output')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  for (const command of [
    demoCommand(),
    initCommand(),
    ingestCommand(),
    sourcesCommand(),
    buildCommand(),
    runCommand(),
    checkCommand(),
    graphCommand(),
    lakeCommand(),
    sqlCommand(),
    quarantineCommand(),
    runsCommand(),
    serveCommand(),
    registryCommand(),
    contractsCommand(),
    syncCommand(),
    publishCommand(),
    produceCommand(),
    streamCommand(),
    dlqCommand(),
    monitoringCommand(),
    jobsCommand(),
    backfillCommand(),
    backfillsCommand(),
    workerCommand(),
    devCommand(),
  ]) {
    program.addCommand(command);
  }
  // Every command (and sub-command) reports errors through main() instead of exiting by itself.
  const exitOverride = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}

/** Runs the CLI; returns the exit code. Errors print one line (JSON with --json) to stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version "errors" are normal exits; usage errors were already printed by commander.
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    const code = err instanceof TributaryError ? err.code : 'INTERNAL';
    const message = errorMessage(err).split('\n')[0];
    const hint = err instanceof TributaryError ? err.hint : undefined;
    if (json) process.stderr.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
    else process.stderr.write(`tributary: ${message}${hint ? ` (${hint})` : ''}\n`);
    if (process.env.TRIBUTARY_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    // The exit code says what kind of failure it was (errors.ts): 2 invalid input, 3 invalid config, 4 not found…
    return EXIT_CODES[categoryOf(err)];
  }
}
