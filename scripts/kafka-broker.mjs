#!/usr/bin/env node
// Provision and run a real single-node Apache Kafka broker (KRaft combined
// mode) from Maven Central jars. Plain Node ESM, node: builtins only.
//
// CLI:
//   node scripts/kafka-broker.mjs start [--port 9092] [--data-dir DIR]
//   node scripts/kafka-broker.mjs fetch        # only download the jars
//   node scripts/kafka-broker.mjs classpath    # print the classpath
//
// Library:
//   import { startKafkaBroker, kafkaClasspath } from './scripts/kafka-broker.mjs'
//   const broker = await startKafkaBroker({ port: 0 })  // 0/undefined = free port
//   broker.bootstrap  // '127.0.0.1:<port>'
//   await broker.stop()
//
// Requirements on PATH: java (>= 17) and mvn (first run only, to fetch jars
// from Maven Central). Jars are cached in
// ${XDG_CACHE_HOME:-~/.cache}/tributary/kafka-<version>/libs.
//
// Environment overrides: TRIBUTARY_KAFKA_VERSION, TRIBUTARY_KAFKA_HEAP
// (e.g. "-Xmx1g"), JAVA_HOME, TRIBUTARY_KAFKA_CACHE (cache root).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAFKA_VERSION = process.env.TRIBUTARY_KAFKA_VERSION || '4.4.0';
const LOG4J_VERSION = '2.24.3';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const READY_PATTERN = /Kafka Server started/;

function cacheRoot() {
  if (process.env.TRIBUTARY_KAFKA_CACHE) return process.env.TRIBUTARY_KAFKA_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tributary');
}

export function kafkaHome(version = KAFKA_VERSION) {
  return path.join(cacheRoot(), `kafka-${version}`);
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function stderr(msg) {
  process.stderr.write(`[kafka-broker] ${msg}\n`);
}

function pom(version) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tributary</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>${LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
`;
}

function run(cmd, args, { cwd, onLine } = {}) {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err);
      return;
    }
    let out = '';
    let pending = '';
    const onData = (buf) => {
      const s = buf.toString();
      out += s;
      if (out.length > 200_000) out = out.slice(-100_000);
      if (onLine) {
        pending += s;
        const lines = pending.split('\n');
        pending = lines.pop();
        for (const l of lines) onLine(l);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      if (err.code === 'ENOENT')
        err.message = `${cmd} not found on PATH (${err.message}); install it (Debian: apt-get install ${cmd === 'mvn' ? 'maven' : 'openjdk-17-jre-headless'})`;
      reject(err);
    });
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

async function listJars(libs) {
  const files = (await readdir(libs)).filter((f) => f.endsWith('.jar')).sort();
  return files.map((f) => path.join(libs, f));
}

let classpathPromise = null;

/**
 * Marks a complete cache. Its name changes with what the cache holds (2: the broker and Kafka's command-line tools,
 * such as kafka-consumer-groups), so an older cache is fetched again rather than used without them.
 */
const COMPLETE = '.complete-2';

/** Ensure the Kafka jars are cached; resolve to a java classpath string. */
export function kafkaClasspath() {
  if (!classpathPromise) {
    classpathPromise = ensureLibs().catch((err) => {
      classpathPromise = null;
      throw err;
    });
  }
  return classpathPromise;
}

async function ensureLibs(version = KAFKA_VERSION) {
  const home = kafkaHome(version);
  const libs = path.join(home, 'libs');
  if (existsSync(path.join(home, COMPLETE))) {
    return (await listJars(libs)).join(path.delimiter);
  }
  await mkdir(cacheRoot(), { recursive: true });
  // Remove temp dirs left by killed runs (older than an hour, so a concurrent
  // download in another process is never touched).
  for (const name of await readdir(cacheRoot())) {
    if (!name.startsWith(`.kafka-${version}.tmp-`)) continue;
    const p = path.join(cacheRoot(), name);
    try {
      if (Date.now() - statSync(p).mtimeMs > 3600_000) await rm(p, { recursive: true, force: true });
    } catch {}
  }
  // Download into a temp dir next to the final one, then rename atomically,
  // so a killed first run never leaves a half-filled cache.
  const tmp = await mkdtemp(path.join(cacheRoot(), `.kafka-${version}.tmp-`));
  const t0 = Date.now();
  try {
    stderr(`fetching Apache Kafka ${version} jars from Maven Central (first run only)...`);
    await writeFile(path.join(tmp, 'pom.xml'), pom(version));
    let n = 0;
    const res = await run(
      'mvn',
      [
        '-B',
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${path.join(tmp, 'libs')}`,
      ],
      {
        cwd: tmp,
        onLine: (line) => {
          const m = /Downloaded from \S+: \S+\/([^/\s]+\.jar) \(([^)]*)\)/.exec(line);
          if (m) {
            n++;
            stderr(`  downloaded ${m[1]} (${m[2]})`);
          }
        },
      },
    );
    if (res.code !== 0) {
      throw new Error(`mvn dependency:copy-dependencies failed (exit ${res.code ?? res.signal}):\n${res.out.slice(-4000)}`);
    }
    const jars = await listJars(path.join(tmp, 'libs'));
    if (!jars.some((j) => path.basename(j) === `kafka_2.13-${version}.jar`)) {
      throw new Error(`mvn finished but kafka_2.13-${version}.jar is missing in ${tmp}/libs`);
    }
    await writeFile(path.join(tmp, COMPLETE), `${new Date().toISOString()}\n`);
    try {
      await rename(tmp, home);
    } catch (_err) {
      // Another process won the race (ENOTEMPTY/EEXIST): use its copy.
      if (!existsSync(path.join(home, COMPLETE))) {
        // A stale incomplete dir (should not happen) — replace it.
        await rm(home, { recursive: true, force: true });
        await rename(tmp, home);
      }
    }
    stderr(`Kafka ${version}: ${jars.length} jars ready in ${libs} ` + `(${n} downloaded, ${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return (await listJars(libs)).join(path.delimiter);
}

export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function readFrom(file, pos) {
  try {
    const fd = openSync(file, 'r');
    try {
      const len = Math.max(0, fstatSync(fd).size - pos);
      const buf = Buffer.alloc(len);
      const n = len ? readSync(fd, buf, 0, len, pos) : 0;
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch {
    return Buffer.alloc(0);
  }
}

// First ERROR/FATAL lines of this run (the root cause) plus the log's tail.
function diagnostics(file, from = 0) {
  const text = readFrom(file, from).toString();
  if (!text) return '(broker log is empty)';
  const lines = text.split('\n');
  const errors = lines.filter((l) => /\b(ERROR|FATAL)\b|Exception|Error:/.test(l)).slice(0, 8);
  const tail = lines.slice(-30);
  return [
    errors.length ? `first errors:\n${errors.map((l) => l.slice(0, 600)).join('\n')}\n` : '',
    `last lines:\n${tail.map((l) => l.slice(0, 600)).join('\n')}`,
  ].join('');
}

function clusterId() {
  // Kafka Uuid: 16 random bytes, base64url without padding (22 chars). One that starts with '-' (1 in 64) is read
  // by kafka-storage's argument parser as an option ("argument --cluster-id/-t: expected one argument"): draw again.
  for (;;) {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40; // make it a v4 UUID, never the reserved zero/one ids
    b[8] = (b[8] & 0x3f) | 0x80;
    const id = b.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties({ port, controllerPort, logDir }) {
  return `# generated by scripts/kafka-broker.mjs
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=${logDir}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.ms=-1
log.retention.bytes=-1
# Records up to 16 MB (Kafka's default is 1 MB): streams must be able to dead-letter an oversized event.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
`;
}

const LOG4J2_PROPERTIES = `status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
`;

// Runs as a separate tiny node process: if our process dies without calling
// stop() (crash, SIGKILL, unhandled signal), its stdin pipe reaches EOF and it
// terminates the JVM and removes a temp data dir.
const WATCHDOG_SRC = `
const [pid, dir] = [Number(process.argv[1]), process.argv[2]];
const fs = require('node:fs');
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
const cleanup = () => { if (dir) try { fs.rmSync(dir, { recursive: true, force: true }); } catch {} process.exit(0); };
setInterval(() => { if (!alive()) process.exit(0); }, 1000);
process.stdin.on('data', () => {});
process.stdin.on('close', () => {
  try { process.kill(pid, 'SIGTERM'); } catch {}
  const t0 = Date.now();
  setInterval(() => {
    if (!alive()) cleanup();
    else if (Date.now() - t0 > 10000) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  }, 100);
});
process.stdin.resume();
`;

/**
 * Start a single-node KRaft broker.
 * @param {{ port?: number, dataDir?: string, log?: boolean | ((msg: string) => void), heap?: string }} [opts]
 *   port: PLAINTEXT port on 127.0.0.1 (0/undefined = free port).
 *   dataDir: where server.properties, broker.log and the data live (default: fresh temp dir,
 *            removed by stop()). An existing formatted dataDir is reused (data persists).
 *   log: status messages; true = stderr, function = custom sink, default silent.
 *   heap: JVM heap flags, default "-Xmx512m -Xms128m" (or $TRIBUTARY_KAFKA_HEAP).
 * @returns {Promise<{ bootstrap: string, port: number, dataDir: string, logFile: string,
 *   pid: number, exited: Promise<{code: number|null, signal: string|null}>, stop(): Promise<void> }>}
 */
export async function startKafkaBroker({ port, dataDir, log, heap } = {}) {
  const say = typeof log === 'function' ? log : log ? stderr : () => {};
  const t0 = Date.now();
  const classpath = await kafkaClasspath();
  const ownsDir = !dataDir;
  const dir = dataDir ? path.resolve(dataDir) : await mkdtemp(path.join(os.tmpdir(), 'tributary-kafka-'));
  await mkdir(dir, { recursive: true });
  let child;
  let watchdog;
  try {
    const brokerPort = port || (await freePort());
    let controllerPort = await freePort();
    while (controllerPort === brokerPort) controllerPort = await freePort();
    const logDir = path.join(dir, 'kraft-data');
    const propsFile = path.join(dir, 'server.properties');
    const log4jFile = path.join(dir, 'log4j2.properties');
    const logFile = path.join(dir, 'broker.log');
    await writeFile(propsFile, serverProperties({ port: brokerPort, controllerPort, logDir }));
    await writeFile(log4jFile, LOG4J2_PROPERTIES);
    const jvmCommon = [
      '-Djava.awt.headless=true',
      // Kafka logs during its own shutdown hook; keep log4j alive until then.
      '-Dlog4j2.shutdownHookEnabled=false',
      `-Dlog4j2.configurationFile=${log4jFile}`,
      `-Dkafka.logs.dir=${dir}`,
      '-cp',
      classpath,
    ];

    if (!existsSync(path.join(logDir, 'meta.properties'))) {
      const id = clusterId();
      const res = await run(javaBin(), [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        ...jvmCommon,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${id}`,
        '-c',
        propsFile,
      ]);
      if (res.code !== 0) {
        throw new Error(`kafka storage format failed (exit ${res.code ?? res.signal}):\n${res.out.slice(-4000)}`);
      }
      say(`formatted ${logDir} (cluster id ${id})`);
    }

    const heapFlags = (heap || process.env.TRIBUTARY_KAFKA_HEAP || '-Xmx512m -Xms128m').split(/\s+/).filter(Boolean);
    const logFd = openSync(logFile, 'a');
    const logStart = fstatSync(logFd).size; // only scan what this run writes
    try {
      child = spawn(
        javaBin(),
        [...heapFlags, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', ...jvmCommon, 'kafka.Kafka', propsFile],
        { cwd: dir, stdio: ['ignore', logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    const exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
    });
    const onProcessExit = () => {
      try {
        child.kill('SIGKILL');
      } catch {}
      if (ownsDir)
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {}
    };
    process.once('exit', onProcessExit);
    exited.then(() => process.removeListener('exit', onProcessExit));

    if (child.pid) {
      watchdog = spawn(process.execPath, ['-e', WATCHDOG_SRC, String(child.pid), ownsDir ? dir : ''], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      watchdog.on('error', () => {});
      watchdog.stdin.on('error', () => {});
      watchdog.unref();
      watchdog.stdin.unref?.();
    }

    let stopping = null;
    const stop = () => {
      if (!stopping) {
        stopping = (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            await exited;
            clearTimeout(timer);
          }
          if (watchdog && watchdog.exitCode === null) watchdog.kill('SIGKILL');
          if (ownsDir) await rm(dir, { recursive: true, force: true });
          say('broker stopped');
        })();
      }
      return stopping;
    };

    // Wait for readiness: the log line that KafkaRaftServer prints once the
    // broker is unfenced and serving, then a TCP connect to the listener.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exitInfo = null;
    let sawStarted = false;
    let scanPos = logStart;
    let scanText = '';
    exited.then((e) => {
      exitInfo = e;
    });
    for (;;) {
      if (exitInfo) {
        const why = exitInfo.error ? exitInfo.error.message : `exit code ${exitInfo.code ?? exitInfo.signal}`;
        const tail = diagnostics(logFile, logStart);
        await stop().catch(() => {});
        throw new Error(`Kafka broker exited during startup (${why}). Broker log (${logFile}):\n${tail}`);
      }
      if (!sawStarted) {
        const chunk = readFrom(logFile, scanPos);
        scanPos += chunk.length;
        scanText = (scanText + chunk.toString()).slice(-4096);
        sawStarted = READY_PATTERN.test(scanText);
      }
      const ready = sawStarted && (await canConnect(brokerPort));
      if (ready) break;
      if (Date.now() > deadline) {
        const tail = diagnostics(logFile, logStart);
        await stop().catch(() => {});
        throw new Error(`Kafka broker not ready after ${READY_TIMEOUT_MS / 1000}s. Broker log (${logFile}):\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const bootstrap = `127.0.0.1:${brokerPort}`;
    say(`Kafka ${KAFKA_VERSION} ready at ${bootstrap} in ${((Date.now() - t0) / 1000).toFixed(1)}s (data ${dir})`);
    return { bootstrap, port: brokerPort, dataDir: dir, logFile, pid: child.pid, exited, stop };
  } catch (err) {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (watchdog && watchdog.exitCode === null) watchdog.kill('SIGKILL');
    if (ownsDir) await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

function parseArgs(argv) {
  const opts = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) opts[m[1]] = m[2] ?? argv[++i];
    else opts._.push(a);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const cmd = opts._[0] || 'start';
  if (cmd === 'fetch') {
    await kafkaClasspath();
    stderr(`Kafka ${KAFKA_VERSION} jars cached in ${path.join(kafkaHome(), 'libs')}`);
    return;
  }
  if (cmd === 'classpath') {
    process.stdout.write(`${await kafkaClasspath()}\n`);
    return;
  }
  if (cmd !== 'start') {
    process.stderr.write('usage: kafka-broker.mjs start [--port 9092] [--data-dir DIR] | fetch | classpath\n');
    process.exit(2);
  }
  const port = opts.port !== undefined ? Number(opts.port) : 9092;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${opts.port}`);
  if (
    port &&
    !(await new Promise((res) => {
      const s = net
        .createServer()
        .once('error', () => res(false))
        .listen(port, '127.0.0.1', () => s.close(() => res(true)));
    }))
  ) {
    throw new Error(`port ${port} on 127.0.0.1 is already in use`);
  }
  const broker = await startKafkaBroker({ port, dataDir: opts['data-dir'], log: true });
  process.stdout.write(`${broker.bootstrap}\n`);
  stderr(`broker log: ${broker.logFile} — Ctrl-C to stop`);
  let stopping = false;
  const shutdown = async (sig) => {
    if (stopping) return;
    stopping = true;
    stderr(`${sig}: stopping broker...`);
    await broker.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const e = await broker.exited;
  if (!stopping) {
    stderr(`broker exited unexpectedly (${e.code ?? e.signal}). Log:\n${diagnostics(broker.logFile)}`);
    await broker.stop();
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    stderr(err?.stack || String(err));
    process.exit(1);
  });
}
