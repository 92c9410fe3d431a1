#!/usr/bin/env node
// Apache Spark (local mode) reading a Tributary lake through Apache Iceberg: the peer reader of docs/iceberg.md.
// Spark 4.0 and iceberg-spark-runtime-4.0_2.13 come from Maven Central (fetched once with mvn, cached like the Kafka
// jars); a small Java program (scripts/spark/SparkSql.java, compiled once) runs SQL statements against a path-based
// catalog `lake` at the lake root and prints each statement's rows as a JSON line. Plain Node ESM, node: builtins only.
//
// CLI:
//   node scripts/spark-iceberg.mjs fetch                                  # download the jars, compile the program
//   node scripts/spark-iceberg.mjs sql <lake root> "<statement>" […]     # e.g. "SELECT count(*) FROM lake.gold.kpis"
//
// Library:
//   import { sparkSql } from './scripts/spark-iceberg.mjs'
//   const results = await sparkSql('/path/to/lake', ['SELECT …'])  // [{ rows: [...] } | { error: '…' }, …]
//
// Requirements on PATH: java and javac (>= 17) and mvn (first run only). Cache:
// ${XDG_CACHE_HOME:-~/.cache}/tributary/spark-<spark>-iceberg-<iceberg>/. Environment: TRIBUTARY_SPARK_VERSION,
// TRIBUTARY_ICEBERG_VERSION, TRIBUTARY_SPARK_HEAP (default -Xmx1g), JAVA_HOME.

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SPARK_VERSION = process.env.TRIBUTARY_SPARK_VERSION || '4.0.1';
export const ICEBERG_VERSION = process.env.TRIBUTARY_ICEBERG_VERSION || '1.10.0';
const here = path.dirname(fileURLToPath(import.meta.url));

// Spark 4 on Java 17 needs these, as its launcher passes them (JavaModuleOptions).
const ADD_OPENS = [
  'java.base/java.lang',
  'java.base/java.lang.invoke',
  'java.base/java.lang.reflect',
  'java.base/java.io',
  'java.base/java.net',
  'java.base/java.nio',
  'java.base/java.util',
  'java.base/java.util.concurrent',
  'java.base/java.util.concurrent.atomic',
  'java.base/jdk.internal.ref',
  'java.base/sun.nio.ch',
  'java.base/sun.nio.cs',
  'java.base/sun.security.action',
  'java.base/sun.util.calendar',
].map((m) => `--add-opens=${m}=ALL-UNNAMED`);

function home() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tributary', `spark-${SPARK_VERSION}-iceberg-${ICEBERG_VERSION}`);
}

function bin(name) {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', name) : name;
}

function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

const pom = () => `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tributary</groupId>
  <artifactId>spark-iceberg-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql_2.13</artifactId><version>${SPARK_VERSION}</version></dependency>
    <dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-spark-runtime-4.0_2.13</artifactId><version>${ICEBERG_VERSION}</version></dependency>
  </dependencies>
</project>
`;

/** Downloads the jars (once) and compiles the SQL runner (when its source changed); returns the classpath. */
export async function provisionSpark() {
  const dir = home();
  const libs = path.join(dir, 'libs');
  if (!existsSync(path.join(libs, '.complete'))) {
    await mkdir(dir, { recursive: true });
    const work = await mkdtemp(path.join(dir, 'fetch-'));
    try {
      await writeFile(path.join(work, 'pom.xml'), pom());
      const staging = path.join(work, 'libs');
      const r = await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`], { cwd: work });
      if (r.code !== 0) throw new Error(`mvn could not fetch Spark ${SPARK_VERSION} and Iceberg ${ICEBERG_VERSION}:\n${r.out}${r.err}`);
      await writeFile(path.join(staging, '.complete'), '');
      await rm(libs, { recursive: true, force: true });
      await rename(staging, libs);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const source = path.join(here, 'spark', 'SparkSql.java');
  const classes = path.join(dir, 'classes');
  const stamp = path.join(classes, `.source-${Math.round(statSync(source).mtimeMs)}`);
  if (!existsSync(stamp)) {
    await rm(classes, { recursive: true, force: true });
    await mkdir(classes, { recursive: true });
    const r = await run(bin('javac'), ['-cp', `${libs}/*`, '-d', classes, source]);
    if (r.code !== 0) throw new Error(`javac failed on ${source}:\n${r.out}${r.err}`);
    await writeFile(stamp, '');
  }
  return `${libs}/*${path.delimiter}${classes}`;
}

/**
 * Runs statements in one Spark session over the lake at `lakeRoot` (catalog `lake`, a namespace per layer). Returns
 * one result per statement: `{ rows }` (the rows as JSON objects) or `{ error }`.
 */
export async function sparkSql(lakeRoot, statements, options = {}) {
  const classpath = await provisionSpark();
  const heap = process.env.TRIBUTARY_SPARK_HEAP || '-Xmx1g';
  const r = await run(bin('java'), [...ADD_OPENS, heap, '-cp', classpath, 'SparkSql', path.resolve(lakeRoot), ...statements], {
    env: { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', ...(options.env ?? {}) },
  });
  const results = [];
  for (const line of r.out.split('\n')) {
    if (!line.startsWith('{"statement"')) continue;
    const parsed = JSON.parse(line);
    results[parsed.statement] = parsed.error !== undefined ? { error: parsed.error } : { rows: parsed.rows };
  }
  if (results.length !== statements.length)
    throw new Error(`Spark exited with ${r.code} after ${results.length} of ${statements.length} statement(s):\n${r.err.slice(-4000)}`);
  return results;
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'fetch') {
    console.log(await provisionSpark());
    return;
  }
  if (command === 'sql' && rest.length >= 2) {
    const results = await sparkSql(rest[0], rest.slice(1));
    for (const r of results) console.log(JSON.stringify(r));
    if (results.some((r) => r.error)) process.exitCode = 2;
    return;
  }
  console.error('usage: node scripts/spark-iceberg.mjs fetch | sql <lake root> "<statement>" […]');
  process.exitCode = 64;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message);
    process.exitCode = 1;
  });
}
