#!/usr/bin/env node
// A real S3-compatible server for tests and trials: Adobe's S3Mock (com.adobe.testing:s3mock, the runnable `exec` jar
// from Maven Central, fetched once with mvn and cached like the Kafka jars). Plain Node ESM, node: builtins only.
//
// CLI:
//   node scripts/s3mock.mjs fetch                      # download the jar
//   node scripts/s3mock.mjs start [--port 9090]        # run until Ctrl-C; prints the endpoint
//
// Library:
//   import { startS3Mock } from './scripts/s3mock.mjs'
//   const s3 = await startS3Mock({ buckets: ['lake'] })   // s3.endpoint = 'http://127.0.0.1:<port>'
//   await s3.stop()
//
// S3Mock accepts any credentials; use path-style URLs. Environment: TRIBUTARY_S3MOCK_VERSION, JAVA_HOME.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const S3MOCK_VERSION = process.env.TRIBUTARY_S3MOCK_VERSION || '5.2.0';
const READY = /Started S3MockApplication/;
const READY_TIMEOUT_MS = 120_000;

function home() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tributary', `s3mock-${S3MOCK_VERSION}`);
}

function java() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The jar's path, downloaded once. */
export async function s3mockJar() {
  const dir = home();
  const jar = path.join(dir, `s3mock-${S3MOCK_VERSION}-exec.jar`);
  if (existsSync(jar)) return jar;
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(path.join(dir, 'fetch-'));
  try {
    const artifact = `com.adobe.testing:s3mock:${S3MOCK_VERSION}:jar:exec`;
    const r = await run('mvn', [
      '-q',
      '-B',
      'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy',
      `-Dartifact=${artifact}`,
      `-DoutputDirectory=${work}`,
    ]);
    if (r.code !== 0) throw new Error(`mvn could not fetch ${artifact}:\n${r.out}`);
    await rename(path.join(work, `s3mock-${S3MOCK_VERSION}-exec.jar`), jar);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return jar;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts S3Mock with these buckets (`port` and `root` to restart one that was stopped with `keep`); resolves once it answers. */
export async function startS3Mock(options = {}) {
  const jar = await s3mockJar();
  const port = options.port || (await freePort());
  const root = options.root || (await mkdtemp(path.join(os.tmpdir(), 'tributary-s3mock-')));
  const args = [
    '-Xmx512m',
    '-jar',
    jar,
    `--http.port=${port}`,
    '--server.port=0',
    '--server.address=127.0.0.1',
    `--com.adobe.testing.s3mock.store.root=${root}`,
    `--com.adobe.testing.s3mock.store.initial-buckets=${(options.buckets ?? []).join(',')}`,
    // Objects survive a stop, so that a server restarted on the same root finds them (an outage, not a wipe).
    '--com.adobe.testing.s3mock.store.retain-files-on-exit=true',
    '--spring.main.banner-mode=off',
  ];
  const child = spawn(java(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`S3Mock did not start in ${READY_TIMEOUT_MS / 1000}s:\n${log.slice(-4000)}`)), READY_TIMEOUT_MS);
    const onData = (d) => {
      log += d;
      if (READY.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`S3Mock exited with ${code}:\n${log.slice(-4000)}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    root,
    pid: child.pid,
    /** Stops the server (SIGTERM, then SIGKILL). `keep` leaves its store for a restart on the same port and root. */
    async stop({ keep = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!keep && !options.root) await rm(root, { recursive: true, force: true });
    },
  };
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'fetch') {
    console.log(await s3mockJar());
    return;
  }
  if (command === 'start') {
    const i = rest.indexOf('--port');
    const s3 = await startS3Mock({ ...(i >= 0 ? { port: Number(rest[i + 1]) } : {}), buckets: ['lake'] });
    console.log(`S3Mock ${S3MOCK_VERSION} at ${s3.endpoint} (bucket "lake"; any credentials; path-style)`);
    const stop = () => s3.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    await writeFile(path.join(s3.root, '.pid'), String(process.pid));
    return;
  }
  console.error('usage: node scripts/s3mock.mjs fetch | start [--port N]');
  process.exitCode = 64;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message);
    process.exitCode = 1;
  });
}
