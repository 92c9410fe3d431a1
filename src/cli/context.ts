import path from 'node:path';
import type { Command } from 'commander';
import { findConfigFile, loadConfig } from '../config/load.js';
import { TributaryError } from '../errors.js';
import { Lake } from '../lake/lake.js';
import { toJson, type OutputFormat } from './output.js';

export interface GlobalOptions {
  project?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * The project a command works on: `--project <dir>`, or the nearest folder at or above the current one holding a
 * `tributary.config.ts` (as git and vite find theirs), so commands work from `models/` or `data/` too. Outside any
 * project this is an error: no folder silently becomes a project with a catalog of its own.
 */
export function projectDir(cmd: Command): string {
  const given = globals(cmd).project;
  if (given !== undefined) {
    const dir = path.resolve(given);
    if (!findConfigFile(dir)) {
      throw new TributaryError('CONFIG_NOT_FOUND', `--project: no tributary.config.ts in ${dir}`, {
        hint: 'run `tributary init <dir>` to create a project there',
      });
    }
    return dir;
  }
  const found = findProjectDir(process.cwd());
  if (!found) {
    throw new TributaryError('CONFIG_NOT_FOUND', `no tributary.config.ts in ${process.cwd()} or any folder above it: this is not a Tributary project`, {
      hint: 'cd into a project, pass --project <dir>, or create one with `tributary init <dir>`',
    });
  }
  return found;
}

export function findProjectDir(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (findConfigFile(dir)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Opens the project's lake for the duration of one command. */
export async function withLake<T>(cmd: Command, fn: (lake: Lake) => Promise<T>): Promise<T> {
  const config = await loadConfig(projectDir(cmd), { required: true });
  const lake = await Lake.open(config);
  try {
    return await fn(lake);
  } finally {
    await lake.close();
  }
}

/** `--json` wins over `--format`; the default is a table. */
export function outputFormat(cmd: Command, format?: string): OutputFormat {
  if (globals(cmd).json) return 'json';
  return (format as OutputFormat | undefined) ?? 'table';
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Prints `value` as JSON when --json is set, otherwise the human rendering. */
export function emit(cmd: Command, value: unknown, human: () => string): void {
  print(globals(cmd).json ? toJson(value) : human());
}

/** An abort signal for Ctrl-C and SIGTERM: long commands finish the work in hand (a batch, a task), then stop. */
export function stopOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/** Waits for Ctrl-C or SIGTERM, then runs `close` (a server and its lake) before returning. */
export function untilStopped(close: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => void close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
