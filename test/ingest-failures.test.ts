import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSourceConfig } from '../src/config/types.js';
import { runIngest } from '../src/ingest/run.js';
import { ROOT, run, tempDir } from './support/helpers.js';
import { openTestLake, rows } from './support/project.js';
import { cli } from './support/helpers.js';

const src = (glob: string, into: string, extra: Partial<FileSourceConfig> = {}): FileSourceConfig => ({ kind: 'files', glob, into, ...extra });
const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const retailSchema = {
  columns: { InvoiceNo: 'VARCHAR', Quantity: 'BIGINT', InvoiceDate: 'TIMESTAMP', UnitPrice: 'DOUBLE', CustomerID: { type: 'VARCHAR', required: false } },
};

/** A day of Online Retail's shape: quoted descriptions with commas, but no `""` escapes. */
function plainDay(k: number): string {
  const lines = [HEADER];
  for (let i = 1; i <= 50; i++) {
    lines.push(`${k}${i},22808,SET OF ${i} T-LIGHTS,1,2011-04-07 08:58:00,2.95,,United Kingdom`);
    lines.push(`${k}${i},22809,"BOX, ${i} PIECES",2,2011-04-07 08:58:00,1.5,17850.0,France`);
  }
  return `${lines.join('\n')}\n`;
}

describe('ingestion batches', () => {
  it('states the CSV dialect, so a later file quoted differently from the first ones does not fail its batch', async () => {
    // DuckDB sniffs the first files of a scan; a `""` escape in the eleventh made the whole batch fail, and every
    // file was then read and committed alone (the 10× Online Retail case: 266 s instead of 17 s).
    const { lake, write } = await openTestLake({ sources: { retail: src('data/*.csv', 'bronze.retail', { schema: retailSchema }) } });
    for (let k = 0; k < 10; k++) write(`data/a-${k}.csv`, plainDay(k));
    write('data/b.csv', `${HEADER}\n549412,84212,"ASSORTED FLOWER COLOUR ""LEIS""",1200,2011-04-08 11:43:00,0.42,14258.0,United Kingdom\n`);
    const report = (await runIngest(lake)).sources[0]!;
    expect(report).toMatchObject({ rows: 1001, rejectedRows: 0, quarantined: [] });
    expect(new Set(report.ingested.map((f) => f.snapshotId)).size).toBe(1);
    expect(await lake.history('bronze.retail')).toHaveLength(1);
    expect(await rows(lake, `SELECT Description FROM bronze.retail WHERE InvoiceNo = '549412'`)).toEqual([{ Description: 'ASSORTED FLOWER COLOUR "LEIS"' }]);
  });

  it('finds the unreadable file of a batch by halves, keeps its reason, and commits the others', async () => {
    const { lake, dir } = await openTestLake({ sources: { s: src('in/*.parquet', 'bronze.halves') } });
    mkdirSync(path.join(dir, 'in'));
    for (let i = 0; i < 16; i++) {
      await lake.engine.run(`COPY (SELECT ${i} AS id, 'ok' AS v) TO '${path.join(dir, `in/f${String(i).padStart(2, '0')}.parquet`)}' (FORMAT parquet)`);
    }
    // A valid footer (its schema reads fine) over a damaged data page: DuckDB fails the whole scan.
    const bad = path.join(dir, 'in/f05.parquet');
    await lake.engine.run(`COPY (SELECT range AS id, md5(range::VARCHAR) AS v FROM range(5000)) TO '${bad}' (FORMAT parquet, COMPRESSION zstd)`);
    const bytes = readFileSync(bad);
    for (let i = 4; i < bytes.length / 2; i++) bytes[i] = (i * 7919) % 251;
    writeFileSync(bad, bytes);
    const report = (await runIngest(lake)).sources[0]!;
    expect(report.quarantined).toEqual([expect.objectContaining({ path: 'in/f05.parquet', reasonCode: 'unreadable' })]);
    expect(report.ingested).toHaveLength(15);
    // Halves: at most 2·log2(16) commits, where file by file made one per file.
    const snapshots = (await lake.history('bronze.halves')).length;
    expect(snapshots).toBeLessThanOrEqual(8);
    expect(snapshots).toBeGreaterThan(1);
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.halves')).toEqual([{ n: 15 }]);
  });

  it('skips a source file deleted between discovery and reading, with a warning, and goes on', async () => {
    const { lake, write, dir } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.gone') } });
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) write(`in/${name}.csv`, `id\n${name.charCodeAt(0)}\n`);
    let removed = false;
    const report = await runIngest(lake, [], {
      onProgress: (p) => {
        // While the first files are hashed, the last is removed (before it is hashed); when reading starts, another.
        if (p.phase === 'hashing' && !removed) {
          rmSync(path.join(dir, 'in/f.csv'));
          removed = true;
        }
        if (p.phase === 'reading' && existsSync(path.join(dir, 'in/b.csv'))) rmSync(path.join(dir, 'in/b.csv'));
      },
    });
    const s = report.sources[0]!;
    expect(s.skipped.map((f) => f.path).sort()).toEqual(['in/b.csv', 'in/f.csv']);
    expect(s.skipped[0]!.reason).toMatch(/removed after it was found/);
    expect(s.quarantined).toEqual([]);
    expect(s.ingested.map((f) => f.path).sort()).toEqual(['in/a.csv', 'in/c.csv', 'in/d.csv', 'in/e.csv']);
    expect(report.status).toBe('success');
    // Not recorded as ingested: if the file comes back, the next run takes it.
    write('in/b.csv', 'id\n98\n');
    expect((await runIngest(lake)).sources[0]!.ingested.map((f) => f.path)).toEqual(['in/b.csv']);
  });

  it('vacuum never deletes the files of a write in flight, even with --orphan-minutes 0', async () => {
    const { lake } = await openTestLake();
    const written = await lake.writeFiles('bronze.inflight', 'SELECT range AS id FROM range(1000)');
    const report = await lake.vacuum({ orphanMinutes: 0 });
    expect(report.orphanFiles).toBe(0);
    for (const f of written.files) expect(await lake.storage.exists(f.path)).toBe(true);
    await lake.commit({ changes: [lake.change(written, 'append')] });
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.inflight')).toEqual([{ n: 1000 }]);
    // A write that was abandoned (its files deleted without a commit, or its process killed) protects nothing.
    const abandoned = await lake.writeFiles('bronze.inflight', 'SELECT 1 AS id');
    await lake.discardWrites(abandoned.files);
    expect((await lake.vacuum({ orphanMinutes: 0 })).orphanFiles).toBe(1);
  });

  it("a killed writer's in-flight marker does not keep its orphans forever", async () => {
    const { lake } = await openTestLake();
    const dead = await run(process.execPath, ['-e', 'console.log(process.pid)']);
    const pid = Number(dead.stdout.trim());
    await lake.storage.put('bronze/t/data/w_dead.parquet', new TextEncoder().encode('orphan'));
    await lake.storage.put(
      '_inflight/w_dead.json',
      new TextEncoder().encode(
        JSON.stringify({ prefix: 'bronze/t/data/w_dead', pid, host: (await import('node:os')).hostname(), startedAt: new Date().toISOString() }),
      ),
    );
    expect((await lake.vacuum({ orphanMinutes: 0 })).orphanFiles).toBe(1);
    expect(await lake.storage.exists('_inflight/w_dead.json')).toBe(false);
  });

  it('a writer killed after sending its commit keeps its files while the catalog may still commit them', async () => {
    const { lake } = await openTestLake();
    const dead = await run(process.execPath, ['-e', 'console.log(process.pid)']);
    const marker = (committingAt: Date) =>
      new TextEncoder().encode(
        JSON.stringify({
          prefix: 'bronze/t/data/w_late',
          pid: Number(dead.stdout.trim()),
          host: hostname(),
          startedAt: committingAt.toISOString(),
          committingAt,
        }),
      );
    await lake.storage.put('bronze/t/data/w_late.parquet', new TextEncoder().encode('committed late'));
    await lake.storage.put('_inflight/w_late.json', marker(new Date()));
    expect((await lake.vacuum({ orphanMinutes: 0 })).orphanFiles).toBe(0);
    expect(await lake.storage.exists('bronze/t/data/w_late.parquet')).toBe(true);
    // Ten minutes on, the catalog has decided: files it does not hold are orphans.
    await lake.storage.put('_inflight/w_late.json', marker(new Date(Date.now() - 11 * 60_000)));
    expect((await lake.vacuum({ orphanMinutes: 0 })).orphanFiles).toBe(1);
  });
});

// The lake on a tiny tmpfs, in a mount namespace of the child process (root or an unprivileged user namespace).
function projectWithSmallLake(files: Record<string, string | Buffer>): string {
  const dir = tempDir('trib-full-');
  writeFileSync(
    path.join(dir, 'tributary.config.ts'),
    `export default { catalog: 'duckdb:catalog/catalog.duckdb', sources: { s: { kind: 'files', glob: 'in/*', into: 'bronze.s', format: 'csv', onError: 'quarantine' } } };\n`,
  );
  mkdirSync(path.join(dir, 'in'));
  mkdirSync(path.join(dir, 'lake'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, 'in', name), content);
  return dir;
}

function ingestOnFullDisk(dir: string, sizeKb: number) {
  const script = `mount -t tmpfs -o size=${sizeKb}k tmpfs "$1/lake" && exec "$2" --import tsx "$3" ingest --project "$1"`;
  return run('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, process.execPath, path.join(ROOT, 'test/fixtures/cli.ts')]);
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('lake-side failures never blame the input', () => {
  // Text that compresses badly, so its Parquet file does not fit in the lake.
  const big = `id,v\n${Array.from({ length: 40_000 }, (_, i) => `${i},${createHash('md5').update(String(i)).digest('hex')}`).join('\n')}\n`;

  it('disk full while writing: the run fails naming the lake, nothing is quarantined, the input is untouched', async () => {
    const dir = projectWithSmallLake({ 'good.csv': big });
    const before = sha(path.join(dir, 'in/good.csv'));
    const result = await ingestOnFullDisk(dir, 256);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/the disk is full \(lake .*\/lake\)/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/); // one line, no stack trace
    expect(sha(path.join(dir, 'in/good.csv'))).toBe(before);
    const listed = await cli(['quarantine', 'ls', '--json', '--project', dir]);
    expect(JSON.parse(listed.stdout)).toEqual([]);
    const runs = JSON.parse((await cli(['runs', 'ls', '--json', '--project', dir])).stdout) as { status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['failed']);
    // With room again, the same file is ingested: nothing was recorded for it.
    const again = await cli(['ingest', '--project', dir, '--json']);
    expect(JSON.parse(again.stdout).sources[0]).toMatchObject({ rows: 40_000, quarantined: [] });
  });

  it('disk full while keeping a quarantine copy: a clear error, no entry, the input left for the next run', async () => {
    const dir = projectWithSmallLake({ 'binary.csv': Buffer.alloc(600_000, 0) });
    const result = await ingestOnFullDisk(dir, 256);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/keeping a copy of in\/binary\.csv in quarantine: the disk is full/);
    expect(existsSync(path.join(dir, 'in/binary.csv'))).toBe(true);
    expect(JSON.parse((await cli(['quarantine', 'ls', '--json', '--project', dir])).stdout)).toEqual([]);
  });
});

describe('CSV edge cases name the real line and cause', () => {
  it('a 10 MB line: its line number and length, and maxLineSize lets it in', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.long', { onError: 'quarantine' }) } });
    write('in/long.csv', `id,v\n1,ok\n2,${'x'.repeat(10_000_000)}\n3,ok\n`);
    const [q] = (await runIngest(lake)).sources[0]!.quarantined;
    expect(q).toMatchObject({
      reasonCode: 'unreadable',
      reason:
        'line 3 is 10000002 bytes long, over the maximum line size of 2000000 bytes; if such lines are expected, raise csv: { maxLineSize } to at least 10000005',
    });
    lake.config.sources.s = src('in/*.csv', 'bronze.long', { onError: 'quarantine', csv: { maxLineSize: 10_000_005 } });
    const retried = await (await import('../src/ingest/run.js')).retryQuarantined(lake, q!.id!);
    expect(retried.sources[0]).toMatchObject({ rows: 3, quarantined: [] });
  });

  it('a 100,000-column header is refused for its width, and a header longer than the first 64 KiB is read whole', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.wide', { onError: 'quarantine' }) } });
    write('in/a-wide.csv', `${Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',')}\n${Array.from({ length: 100_000 }, () => '1').join(',')}\n`);
    const names = Array.from({ length: 4_000 }, (_, i) => `a_rather_long_column_name_${i}`); // 128 KiB of header
    write('in/b-long-header.csv', `${names.join(',')}\n${names.map((_, i) => i).join(',')}\n`);
    const report = (await runIngest(lake)).sources[0]!;
    expect(report.quarantined.map((q) => [q.path, q.reasonCode, q.reason])).toEqual([
      ['in/a-wide.csv', 'too_many_columns', 'the header has 100000 columns, more than csv.maxColumns (10000); raise it if so wide a table is intended'],
    ]);
    expect(report.ingested.map((f) => f.path)).toEqual(['in/b-long-header.csv']);
    const [row] = await rows(lake, 'SELECT a_rather_long_column_name_0 AS first, a_rather_long_column_name_3999 AS last FROM bronze.wide');
    expect(row).toEqual({ first: 0, last: 3999 });
  });

  it('CR-only line endings are read; mixed endings are refused naming the lines, in the head or further down', async () => {
    const schema = { columns: { id: 'BIGINT', v: 'VARCHAR' } };
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.endings', { onError: 'quarantine', schema }) } });
    write('in/cr.csv', 'id,v\r1,a\r2,b\r');
    write('in/mixed.csv', 'id,v\r\n1,a\n2,b\r3,c\r\n');
    write('in/mixed-late.csv', `id,v\n${'1,a\n'.repeat(30_000)}2,b\r\n3,c\n`);
    const report = (await runIngest(lake)).sources[0]!;
    const reasons = Object.fromEntries(report.quarantined.map((q) => [q.path, [q.reasonCode, q.reason]]));
    expect(reasons['in/mixed.csv']).toEqual([
      'mixed_line_endings',
      'mixed line endings: line 1 ends with CRLF, line 2 ends with LF, line 3 ends with CR; a CSV file must use one kind (convert it, e.g. with dos2unix)',
    ]);
    expect(reasons['in/mixed-late.csv']).toEqual([
      'mixed_line_endings',
      'mixed line endings: line 1 ends with LF, line 30002 ends with CRLF; a CSV file must use one kind (convert it, e.g. with dos2unix)',
    ]);
    expect(await rows(lake, `SELECT id, v FROM bronze.endings WHERE _source_file = 'in/cr.csv' ORDER BY id`)).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ]);
  });
});
