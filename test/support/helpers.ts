import { createServer } from 'node:net';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, onTestFinished } from 'vitest';
import type { CatalogLocation } from '../../src/config/types.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PG_URL = process.env.TRIBUTARY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A temporary folder removed after the test file. */
export function tempDir(prefix = 'trib-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh PostgreSQL schema for one catalog, dropped after the test file. */
export function pgCatalog(): CatalogLocation {
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  afterAll(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  return { kind: 'postgres', url: PG_URL, schema };
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** tsx's loader by absolute URL: `--import tsx` would be resolved from the child's folder, which may be anywhere. */
export const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** Runs a TypeScript file of the repo in a child Node process (through tsx). */
export function runTs(script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcessResult> {
  return run(process.execPath, ['--import', TSX, path.join(ROOT, script), ...args], options);
}

/** Runs the CLI from source in a child process, as a user would. */
export function cli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcessResult> {
  return runTs('test/fixtures/cli.ts', args, options);
}

export function run(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A TCP port free right now on 127.0.0.1 (for servers started by tests: Prometheus, `tributary dev`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A long-running CLI command (dev, worker, a poller) from source, with its output collected; killed after the test
 * (or by `cleanup`) if still running.
 */
export function startCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cleanup?: (fn: () => void) => void } = {},
): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'test/fixtures/cli.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  (options.cleanup ?? onTestFinished)(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  return { child, out: () => out, exited };
}

/** Polls `probe` until it gives a value (not undefined or false; a throw counts as not yet), or fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
