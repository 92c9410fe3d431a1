// `npm run bench:http`: the `http` source reading 1 million records from a local API in pages of 1,000 (JSON),
// against the floor: the same pages fetched one after the other and written by bare DuckDB's read_json into the same
// zstd Parquet. The API runs in a process of its own; each side runs in its own process (peak RSS is its own).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const total = Number(process.env.TRIBUTARY_BENCH_HTTP_RECORDS ?? 1_000_000);
const server = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/http-server.ts'), String(total)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const baseUrl = `http://127.0.0.1:${port}`;

function measure(mode: string, dir: string): { rows: number; seconds: number; maxRssMB: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/http-worker.ts'), mode, baseUrl, dir], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const results = [];
try {
  for (let run = 1; run <= 2; run++) {
    const floorDir = mkdtempSync(path.join(tmpdir(), 'trib-bench-http-'));
    const sourceDir = mkdtempSync(path.join(tmpdir(), 'trib-bench-http-'));
    try {
      process.stderr.write(`run ${run}: floor…`);
      const floor = measure('floor', floorDir);
      process.stderr.write(` ${floor.seconds.toFixed(2)} s; http source…`);
      const source = measure('source', sourceDir);
      process.stderr.write(` ${source.seconds.toFixed(2)} s\n`);
      if (source.rows !== floor.rows || source.rows !== total) throw new Error(`the source read ${source.rows} records, the floor ${floor.rows}, of ${total}`);
      results.push({
        run,
        records: total,
        floorSeconds: +floor.seconds.toFixed(2),
        sourceSeconds: +source.seconds.toFixed(2),
        ratio: +(source.seconds / floor.seconds).toFixed(2),
        sourceRecordsPerSecond: Math.round(source.rows / source.seconds),
        floorRecordsPerSecond: Math.round(floor.rows / floor.seconds),
        floorPeakRssMB: Math.round(floor.maxRssMB),
        sourcePeakRssMB: Math.round(source.maxRssMB),
      });
    } finally {
      rmSync(floorDir, { recursive: true, force: true });
      rmSync(sourceDir, { recursive: true, force: true });
    }
  }
} finally {
  server.kill();
}
console.table(results);
console.log(JSON.stringify(results, null, 2));
