import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { Lake } from '../lake/lake.js';
import { toJson, type OutputFormat } from './output.js';

export interface GlobalOptions {
  project?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function projectDir(cmd: Command): string {
  return path.resolve(globals(cmd).project ?? process.cwd());
}

/** Opens the project's lake for the duration of one command. */
export async function withLake<T>(cmd: Command, fn: (lake: Lake) => Promise<T>): Promise<T> {
  const config = await loadConfig(projectDir(cmd));
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
