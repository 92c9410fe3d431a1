import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSourceConfig } from '../src/config/types.js';
import { retryQuarantined, runIngest, runIngestFiles } from '../src/ingest/run.js';
import { openTestLake, rows } from './support/project.js';

const src = (glob: string, into: string, extra: Partial<FileSourceConfig> = {}): FileSourceConfig => ({ kind: 'files', glob, into, ...extra });
const sales = { columns: { id: 'BIGINT', amount: 'DOUBLE', day: { type: 'DATE', required: false } } };

describe('file ingestion into bronze', () => {
  it('adds lineage columns, is idempotent by content hash and ingests a changed file as a new version', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.s', { schema: sales }) } });
    write('in/a.csv', 'id,amount\n1,10.5\n2,20\n');
    write('in/b.csv', '\ufeffid,amount\n3,30\n'); // UTF-8 BOM
    const first = await runIngest(lake);
    expect(first.sources[0]).toMatchObject({ discovered: 2, rows: 3, rejectedRows: 0, quarantined: [] });
    const data = await rows(
      lake,
      'SELECT id, amount, _source, _source_file, length(_file_hash) AS h, _batch_id IS NOT NULL AS b, _ingested_at IS NOT NULL AS t FROM bronze.s ORDER BY id',
    );
    expect(data).toEqual([
      { id: 1, amount: 10.5, _source: 's', _source_file: 'in/a.csv', h: 64, b: true, t: true },
      { id: 2, amount: 20, _source: 's', _source_file: 'in/a.csv', h: 64, b: true, t: true },
      { id: 3, amount: 30, _source: 's', _source_file: 'in/b.csv', h: 64, b: true, t: true },
    ]);
    const again = await runIngest(lake);
    expect(again.sources[0]).toMatchObject({ unchanged: 2, ingested: [], rows: 0 });
    expect((await lake.catalog.getTable('bronze.s'))!.currentSnapshot).toBe(1);

    write('in/a.csv', 'id,amount\n1,11\n2,20\n4,40\n');
    const changed = await runIngest(lake);
    expect(changed.sources[0]!.ingested.map((f) => [f.path, f.rows, f.replacedRows])).toEqual([['in/a.csv', 3, 2]]);
    // A re-exported file replaces its previous version (onChange: 'replace', the default), in the same commit.
    expect(await rows(lake, `SELECT count(DISTINCT _file_hash) AS versions, count(*) AS n FROM bronze.s WHERE _source_file = 'in/a.csv'`)).toEqual([
      { versions: 1, n: 3 },
    ]);
    expect((await lake.catalog.ingestion.files('s')).map((f) => [f.path, f.rowCount])).toEqual([
      ['in/b.csv', 1],
      ['in/a.csv', 3],
    ]);
  });

  it("a changed file replaces its previous version's rows and rejects, or keeps every version with onChange: 'keep'", async () => {
    const schema = { columns: { id: 'BIGINT', amount: 'DOUBLE', day: 'DATE' } };
    const { lake, write } = await openTestLake({
      sources: { s: src('in/*.csv', 'bronze.v', { schema }), k: src('keep/*.csv', 'bronze.k', { schema, onChange: 'keep' }) },
      tables: { 'bronze.v': { partitionBy: { column: 'day', granularity: 'month' } } },
    });
    write('in/a.csv', 'id,amount,day\n1,10,2024-01-05\n2,bad,2024-02-05\n');
    write('in/b.csv', 'id,amount,day\n3,30,2024-01-06\n');
    write('keep/a.csv', 'id,amount,day\n1,10,2024-01-05\n');
    await runIngest(lake);
    const v1 = (await lake.catalog.getTable('bronze.v'))!.currentSnapshot;
    write('in/a.csv', 'id,amount,day\n1,11,2024-01-05\n2,20,2024-02-05\n5,50,2024-03-05\n');
    write('keep/a.csv', 'id,amount,day\n1,11,2024-01-05\n');
    const report = await runIngest(lake);
    expect(report.sources.map((s) => s.ingested.map((f) => [f.path, f.rows, f.replacedRows]))).toEqual([[['in/a.csv', 3, 1]], [['keep/a.csv', 1, 0]]]);
    expect(await rows(lake, 'SELECT id, amount FROM bronze.v ORDER BY id')).toEqual([
      { id: 1, amount: 11 },
      { id: 2, amount: 20 },
      { id: 3, amount: 30 },
      { id: 5, amount: 50 },
    ]);
    // The old version's rejected row left the rejects table with it; the other file's rows were untouched.
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.v_rejects')).toEqual([{ n: 0 }]);
    expect((await lake.catalog.getTable('bronze.v'))!.currentSnapshot).toBe(v1 + 1);
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.k')).toEqual([{ n: 2 }]);
    // Back to the first content: it is ingested again (its record was forgotten with its rows), replacing the second.
    write('in/a.csv', 'id,amount,day\n1,10,2024-01-05\n2,bad,2024-02-05\n');
    expect((await runIngest(lake)).sources[0]!.ingested.map((f) => f.path)).toEqual(['in/a.csv']);
    expect(await rows(lake, 'SELECT id FROM bronze.v ORDER BY id')).toEqual([{ id: 1 }, { id: 3 }]);
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.v_rejects')).toEqual([{ n: 1 }]);
  });

  it('sends rows that fail conversion, and a truncated last line, to the rejects table with file, line and reason', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('*.csv', 'bronze.r', { schema: sales }) } });
    write('r.csv', 'id,amount,day\n1,10,2024-01-01\n2,abc,2024-01-02\n3,30,not-a-date\n4,40,2024-01-04\n5,5');
    const report = await runIngest(lake);
    expect(report.sources[0]).toMatchObject({ rows: 2, rejectedRows: 3 });
    expect(report.status).toBe('partial');
    expect(await rows(lake, 'SELECT id FROM bronze.r ORDER BY id')).toEqual([{ id: 1 }, { id: 4 }]);
    const rejects = await rows(lake, 'SELECT _source_file, line, column_name, error_type, raw_line FROM bronze.r_rejects ORDER BY line');
    expect(rejects).toEqual([
      { _source_file: 'r.csv', line: 3, column_name: 'amount', error_type: 'CAST', raw_line: '2,abc,2024-01-02' },
      { _source_file: 'r.csv', line: 4, column_name: 'day', error_type: 'CAST', raw_line: '3,30,not-a-date' },
      { _source_file: 'r.csv', line: 6, column_name: 'day', error_type: 'MISSING COLUMNS', raw_line: '5,5' },
    ]);
    // Every input row is either in the table or in the rejects: nothing is silently dropped.
    const [{ n }] = (await rows(lake, `SELECT (SELECT count(*) FROM bronze.r) + (SELECT count(DISTINCT line) FROM bronze.r_rejects) AS n`)) as [{ n: number }];
    expect(n).toBe(5);
  });

  it('quarantines unreadable and invalid files with a machine-readable reason and carries on', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.q', { schema: sales, csv: { delimiter: ',' } }) } });
    write('in/good.csv', 'id,amount\n1,1\n');
    write('in/empty.csv', '');
    write('in/header-only.csv', 'id,amount\n');
    write('in/garbage.csv', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    write('in/semicolons.csv', 'id;amount\n1;2\n');
    write('in/dup-header.csv', 'id,amount,amount\n1,2,3\n');
    write('in/latin1.csv', Buffer.concat([Buffer.from('id,amount,name\n1,2,caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    write('in/missing.csv', 'id,total\n1,2\n');
    write('in/reexport.csv', 'id,amount,_source\n1,2,old\n');
    const report = (await runIngest(lake)).sources[0]!;
    const reasons = Object.fromEntries(report.quarantined.map((q) => [path.basename(q.path), q.reasonCode]));
    expect(reasons).toEqual({
      'empty.csv': 'empty_file',
      'garbage.csv': 'binary_content',
      'semicolons.csv': 'missing_columns',
      'dup-header.csv': 'duplicate_columns',
      'latin1.csv': 'invalid_encoding',
      'missing.csv': 'missing_columns',
      'reexport.csv': 'unexpected_columns',
    });
    expect(report.quarantined.find((q) => q.path.endsWith('semicolons.csv'))!.reason).toMatch(/delimiter looks wrong/);
    expect(report.quarantined.find((q) => q.path.endsWith('latin1.csv'))!.reason).toMatch(/latin-1/);
    expect(report.ingested.map((f) => [path.basename(f.path), f.rows]).sort()).toEqual([
      ['good.csv', 1],
      ['header-only.csv', 0],
    ]);

    const listed = await lake.catalog.quarantine.list();
    expect(listed).toHaveLength(7);
    // The quarantined input is preserved in the lake, byte for byte.
    for (const entry of listed) expect(await lake.storage.exists(entry.storedPath!)).toBe(true);
    // Quarantined files are not retried on every run while their content is unchanged.
    const again = (await runIngest(lake)).sources[0]!;
    expect(again.stillQuarantined).toHaveLength(7);
    expect(again.quarantined).toHaveLength(0);
  });

  it('retries a quarantined file once the source is fixed', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.l') } });
    write('in/latin1.csv', Buffer.concat([Buffer.from('id,name\n1,caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const [entry] = (await runIngest(lake)).sources[0]!.quarantined;
    expect(entry!.reasonCode).toBe('invalid_encoding');
    lake.config.sources.s = src('in/*.csv', 'bronze.l', { csv: { encoding: 'latin-1' } });
    const retried = await retryQuarantined(lake, entry!.id!);
    expect(retried.sources[0]!.rows).toBe(1);
    expect(await rows(lake, 'SELECT name, _source_file FROM bronze.l')).toEqual([{ name: 'café', _source_file: 'in/latin1.csv' }]);
    expect((await lake.catalog.quarantine.get(entry!.id!)).status).toBe('resolved');
    expect((await runIngest(lake)).sources[0]).toMatchObject({ unchanged: 1, ingested: [] });
  });

  it('policy quarantine sets aside a whole file with bad rows; policy fail stops with the file and line', async () => {
    const q = await openTestLake({ sources: { s: src('*.csv', 'bronze.pq', { schema: sales, onError: 'quarantine' }) } });
    q.write('good.csv', 'id,amount\n1,1\n');
    q.write('bad.csv', 'id,amount\n1,1\n2,x\n');
    const report = (await runIngest(q.lake)).sources[0]!;
    expect(report.quarantined.map((e) => [e.path, e.reasonCode])).toEqual([['bad.csv', 'rows_rejected']]);
    expect(report.quarantined[0]!.reason).toMatch(/line 3/);
    expect(await rows(q.lake, 'SELECT _source_file, count(*) AS n FROM bronze.pq GROUP BY ALL')).toEqual([{ _source_file: 'good.csv', n: 1 }]);

    const f = await openTestLake({ sources: { s: src('*.csv', 'bronze.pf', { schema: sales, onError: 'fail' }) } });
    f.write('bad.csv', 'id,amount\n1,1\n2,x\n');
    await expect(runIngest(f.lake)).rejects.toThrow(/bad\.csv: line 3, column amount/);
    expect(await f.lake.catalog.getTable('bronze.pf')).toBeUndefined();
    expect((await f.lake.catalog.runs.list({ limit: 1 }))[0]).toMatchObject({ status: 'failed' });
  });

  it('never drops rows of a column whose inferred type later rows do not fit', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('*.csv', 'bronze.mixed') } });
    const lines = ['code,qty'];
    for (let i = 0; i < 30_000; i++) lines.push(`${i},${i}`);
    lines.push('X-1,5'); // after DuckDB's type-sniffing sample
    write('mixed.csv', `${lines.join('\n')}\n`);
    const report = (await runIngest(lake)).sources[0]!;
    expect(report).toMatchObject({ rows: 30_001, rejectedRows: 0 });
    expect(await rows(lake, `SELECT typeof(code) AS t, count(*) AS n FROM bronze.mixed GROUP BY ALL`)).toEqual([{ t: 'VARCHAR', n: 30_001 }]);
  });

  it('reads JSON arrays, NDJSON and Parquet, and applies declared types with rejects', async () => {
    const { lake, write, dir } = await openTestLake({
      sources: {
        arr: src('j/*.json', 'bronze.events'),
        nd: src('j/*.ndjson', 'bronze.events', { schema: { columns: { id: 'BIGINT', v: 'DOUBLE' } } }),
        pq: src('p/*.parquet', 'bronze.events'),
      },
    });
    write(
      'j/a.json',
      JSON.stringify([
        { id: 1, v: 1.5 },
        { id: 2, v: 2.5 },
      ]),
    );
    write('j/b.ndjson', '{"id": 3, "v": 3.5}\n{"id": 4, "v": "oops"}\n{"id": 5, "v": 5}\n');
    mkdirSync(path.join(dir, 'p'));
    await lake.engine.run(`COPY (SELECT 6 AS id, 6.5 AS v) TO '${path.join(dir, 'p/c.parquet')}' (FORMAT parquet)`);
    await runIngest(lake, ['arr', 'nd']);
    writeFileSync(path.join(dir, 'p', 'not-parquet.parquet'), 'hello');
    const report = await runIngest(lake, ['pq']);
    expect(report.sources[0]!.quarantined.map((q) => q.reasonCode)).toEqual(['unreadable']);
    expect(await rows(lake, 'SELECT id, _source FROM bronze.events ORDER BY id')).toEqual([
      { id: 1, _source: 'arr' },
      { id: 2, _source: 'arr' },
      { id: 3, _source: 'nd' },
      { id: 5, _source: 'nd' },
      { id: 6, _source: 'pq' },
    ]);
    expect(await rows(lake, 'SELECT _source_file, line, column_name FROM bronze.events_rejects')).toEqual([
      { _source_file: 'j/b.ndjson', line: 2, column_name: 'v' },
    ]);
  });

  it('applies declared types per file for JSON, even when the first file lacks the column', async () => {
    const { lake, write } = await openTestLake({
      sources: { j: src('j/*.json', 'bronze.j', { schema: { columns: { id: 'BIGINT', amount: { type: 'DOUBLE', required: false } } } }) },
    });
    write('j/a.json', JSON.stringify([{ id: 1 }]));
    write(
      'j/b.json',
      JSON.stringify([
        { id: 2, amount: 'abc' },
        { id: 3, amount: 4.5 },
      ]),
    );
    const report = (await runIngest(lake)).sources[0]!;
    expect(report).toMatchObject({ rows: 2, rejectedRows: 1 });
    expect(await rows(lake, 'SELECT id, amount FROM bronze.j ORDER BY id')).toEqual([
      { id: 1, amount: null },
      { id: 3, amount: 4.5 },
    ]);
  });

  it("a file cannot silently change a column's type: quarantined naming the column and both types, or its rows set aside with 'discard_row'", async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.typed') } });
    write('in/a.csv', 'id,amount\n1,10\n2,20\n');
    await runIngest(lake);
    // Text in a BIGINT column: the file is refused (schemaContract.types 'freeze', the default); the column stays BIGINT.
    write('in/b.csv', 'id,amount\n3,30\n4,unknown\n');
    const refused = (await runIngest(lake)).sources[0]!;
    expect(refused).toMatchObject({ rows: 0, quarantined: [{ path: 'in/b.csv', reasonCode: 'schema_contract' }] });
    expect(refused.quarantined[0]!.reason).toMatch(
      /^column amount reads as VARCHAR, but bronze\.typed holds it as BIGINT \(schemaContract\.types is 'freeze' by default\); first at line 3: .*"unknown"/,
    );
    expect(await rows(lake, "SELECT column_type AS t FROM (DESCRIBE SELECT * FROM bronze.typed) WHERE column_name = 'amount'")).toEqual([{ t: 'BIGINT' }]);
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.typed')).toEqual([{ n: 2 }]);
    // 'discard_row': the row that does not fit is set aside with its reason, the others come in.
    Object.assign(lake.config.sources.s!, { schemaContract: { types: 'discard_row' } });
    const retried = (await retryQuarantined(lake, refused.quarantined[0]!.id!)).sources[0]!;
    expect(retried).toMatchObject({ rows: 1, rejectedRows: 1 });
    expect(await rows(lake, 'SELECT line, column_name, error_type FROM bronze.typed_rejects')).toEqual([
      { line: 3, column_name: 'amount', error_type: 'CAST' },
    ]);
  });

  it("schemaContract columns: 'freeze' quarantines a file with a new column, 'discard_value' drops it, 'discard_row' sets its rows aside", async () => {
    const { lake, write } = await openTestLake({
      sources: { s: src('in/*.csv', 'bronze.cols', { schemaContract: { columns: 'freeze' } }) },
    });
    write('in/a.csv', 'id,amount\n1,10\n');
    await runIngest(lake);
    write('in/b.csv', 'id,amount,coupon\n2,20,\n3,30,WINTER\n');
    const frozen = (await runIngest(lake)).sources[0]!;
    expect(frozen.quarantined[0]).toMatchObject({
      reasonCode: 'schema_contract',
      reason: expect.stringMatching(/^new column\(s\) coupon not in bronze\.cols \(sources\.s\.schemaContract\.columns is 'freeze'\)/),
    });
    Object.assign(lake.config.sources.s!, { schemaContract: { columns: 'discard_value' } });
    const dropped = (await retryQuarantined(lake, frozen.quarantined[0]!.id!)).sources[0]!;
    expect(dropped).toMatchObject({ rows: 2, rejectedRows: 0 });
    expect(dropped.schemaChanges).toEqual(["column coupon of the files dropped (sources.s.schemaContract.columns is 'discard_value')"]);
    expect((await rows(lake, 'DESCRIBE SELECT * FROM bronze.cols')).map((r) => r.column_name)).not.toContain('coupon');

    Object.assign(lake.config.sources.s!, { schemaContract: { columns: 'discard_row' } });
    write('in/c.csv', 'id,amount,coupon\n4,40,\n5,50,SPRING\n6,60,\n');
    const discarded = (await runIngest(lake)).sources[0]!;
    expect(discarded).toMatchObject({ rows: 2, rejectedRows: 1 });
    expect(await rows(lake, 'SELECT id FROM bronze.cols ORDER BY id')).toEqual([1, 2, 3, 4, 6].map((id) => ({ id })));
    const [reject] = await rows(lake, 'SELECT _source_file, line, column_name, error_type, reason, raw_line FROM bronze.cols_rejects');
    expect(reject).toMatchObject({ _source_file: 'in/c.csv', line: 3, column_name: 'coupon', error_type: 'SCHEMA' });
    expect(String(reject!.reason)).toBe("column coupon is not in bronze.cols (sources.s.schemaContract.columns is 'discard_row')");
    expect(JSON.parse(String(reject!.raw_line))).toMatchObject({ id: 5, amount: 50, coupon: 'SPRING' });

    // 'evolve' (the default): the column is added, and the report says so.
    Object.assign(lake.config.sources.s!, { schemaContract: undefined });
    write('in/d.csv', 'id,amount,coupon\n7,70,SUMMER\n');
    const evolved = (await runIngest(lake)).sources[0]!;
    expect(evolved.schemaChanges).toEqual(['new column coupon (VARCHAR)']);
    expect(await rows(lake, 'SELECT id, coupon FROM bronze.cols WHERE coupon IS NOT NULL')).toEqual([{ id: 7, coupon: 'SUMMER' }]);
  });

  it("schemaContract types 'evolve' widens along the lossless lattice only", async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('in/*.csv', 'bronze.evolving', { schemaContract: { types: 'evolve' } }) } });
    write('in/a.csv', 'id,amount\n1,10\n');
    await runIngest(lake);
    write('in/b.csv', 'id,amount\n2,2.5\n');
    expect((await runIngest(lake)).sources[0]).toMatchObject({ rows: 1, rejectedRows: 0 });
    expect(await rows(lake, "SELECT column_type AS t FROM (DESCRIBE SELECT * FROM bronze.evolving) WHERE column_name = 'amount'")).toEqual([{ t: 'DOUBLE' }]);
    expect(await rows(lake, 'SELECT sum(amount) AS s FROM bronze.evolving')).toEqual([{ s: 12.5 }]);
    // To text would lose the type: refused as in 'freeze'.
    write('in/c.csv', 'id,amount\n3,n/a\n4,4\n');
    const refused = (await runIngest(lake)).sources[0]!;
    expect(refused).toMatchObject({ rows: 0, quarantined: [{ reasonCode: 'schema_contract' }] });
    expect(refused.quarantined[0]!.reason).toMatch(
      /column amount reads as VARCHAR, but bronze\.evolving holds it as DOUBLE \(sources\.s\.schemaContract\.types is 'evolve': DOUBLE does not widen to VARCHAR without loss\)/,
    );
    expect(await rows(lake, "SELECT column_type AS t FROM (DESCRIBE SELECT * FROM bronze.evolving) WHERE column_name = 'amount'")).toEqual([{ t: 'DOUBLE' }]);
  });

  it('names the setting of a declared type DuckDB does not know, before reading any file', async () => {
    const { lake, write } = await openTestLake({ sources: { s: src('*.csv', 'bronze.t', { schema: { columns: { amount: 'DOUBLEE' } } }) } });
    write('a.csv', 'amount\n1\n');
    await expect(runIngest(lake)).rejects.toThrow(/sources\.s\.schema\.columns\.amount: "DOUBLEE" is not a DuckDB type/);
    expect(await lake.catalog.quarantine.list()).toEqual([]);
  });

  it('ad hoc: literal paths, folders, a clear error when nothing matches, and retries with the same options', async () => {
    const { lake, write, dir } = await openTestLake();
    write('drop/report[2024].csv', '1,2\n3,4\n');
    const report = await runIngestFiles(lake, 'drop/report[2024].csv', 'bronze.nh', { csv: { header: false } }, { cwd: dir });
    expect(report.sources[0]!.rows).toBe(2);
    await expect(runIngestFiles(lake, 'drop/nothing-*.csv', 'bronze.nh', {}, { cwd: dir })).rejects.toThrow(/no file matches .*nothing-\*\.csv/);
    write('drop/more/x.csv', Buffer.concat([Buffer.from('column0,column1\ncaf'), Buffer.from([0xe9]), Buffer.from(',1\nb,2,3\n')]));
    const quarantining = await runIngestFiles(lake, 'drop/more', 'bronze.nh', { csv: { encoding: 'latin-1' }, onError: 'quarantine' }, { cwd: dir });
    const [entry] = quarantining.sources[0]!.quarantined;
    // column0 is a BIGINT in the table: "café" (read as Latin-1) is refused, not turned into text.
    expect(entry).toMatchObject({
      reasonCode: 'schema_contract',
      reason: expect.stringMatching(/column column0 reads as VARCHAR, but bronze\.nh holds it as BIGINT .*line 2: .*"café" to 'BIGINT'/),
    });
    // The retry reads the file the way it was first read (Latin-1): refused for the same reason, not for its encoding.
    const retried = await retryQuarantined(lake, entry!.id!);
    expect(retried.sources[0]!.quarantined[0]).toMatchObject({ reasonCode: 'schema_contract' });
    expect(await rows(lake, 'SELECT count(*) AS n FROM bronze.nh')).toEqual([{ n: 2 }]);
  });

  it('ingests ad hoc files into a table without a declared source', async () => {
    const { lake, write, dir } = await openTestLake();
    write('drop/x.csv', 'a;b\n1;2\n');
    const report = await runIngestFiles(lake, path.join(dir, 'drop/*.csv'), 'bronze.drop', { csv: { delimiter: ';' } });
    expect(report.sources[0]).toMatchObject({ source: 'adhoc:bronze.drop', rows: 1 });
    expect(await rows(lake, 'SELECT a, b FROM bronze.drop')).toEqual([{ a: 1, b: 2 }]);
    expect((await runIngestFiles(lake, path.join(dir, 'drop/*.csv'), 'bronze.drop')).sources[0]!.unchanged).toBe(1);
  });

  it('partitions fact tables by date and reads real Online Retail files', async () => {
    const { lake, write } = await openTestLake({
      sources: { retail: src('retail/*.csv', 'bronze.retail') },
      tables: { 'bronze.retail': { partitionBy: { column: 'InvoiceDate', granularity: 'month' } } },
    });
    write(
      'retail/a.csv',
      'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,"WHITE HANGING HEART, T-LIGHT",6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n',
    );
    write(
      'retail/b.csv',
      'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\nC536379,D,Discount,-1,2011-01-01 09:41:00,27.5,14527.0,United Kingdom\n',
    );
    await runIngest(lake);
    const current = await lake.catalog.resolveSnapshot('bronze.retail');
    expect(current!.files.map((f) => f.partitionKey).sort()).toEqual(['2010-12', '2011-01']);
    expect(await rows(lake, 'SELECT Description FROM bronze.retail ORDER BY InvoiceDate')).toEqual([
      { Description: 'WHITE HANGING HEART, T-LIGHT' },
      { Description: 'Discount' },
    ]);
  });
});
