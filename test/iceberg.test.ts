import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAvroContainer } from '../src/lake/iceberg/avro-file.js';
import { metadataFolder, publishAll, publishIceberg } from '../src/lake/iceberg/projection.js';
import { openTestLake } from './support/project.js';

interface Metadata {
  'current-snapshot-id': number;
  snapshots: { 'snapshot-id': number; 'parent-snapshot-id'?: number; 'manifest-list': string; summary: Record<string, string>; 'schema-id': number }[];
  schemas: { 'schema-id': number; fields: { id: number; name: string; type: unknown }[] }[];
  'partition-specs': { fields: { name: string; transform: string; 'source-id': number; 'field-id': number }[] }[];
  properties: Record<string, string>;
  location: string;
}

function current(lakeRoot: string, table: string): { version: number; metadata: Metadata } {
  const folder = path.join(lakeRoot, metadataFolder(table));
  const version = Number(readFileSync(path.join(folder, 'version-hint.text'), 'utf8'));
  return { version, metadata: JSON.parse(readFileSync(path.join(folder, `v${version}.metadata.json`), 'utf8')) as Metadata };
}

const local = (uri: string) => uri.replace(/^file:/, '');

/** The data files a snapshot's manifests list, with their entries' status and partition values. */
function manifestFiles(metadata: Metadata, snapshotId: number) {
  const snap = metadata.snapshots.find((s) => s['snapshot-id'] === snapshotId)!;
  const list = readAvroContainer(readFileSync(local(snap['manifest-list']))).records as { manifest_path: string; added_files_count: number }[];
  return list.flatMap((m) =>
    (
      readAvroContainer(readFileSync(local(m.manifest_path))).records as {
        status: number;
        snapshot_id: number;
        data_file: { file_path: string; record_count: number; partition: Record<string, number | null> };
      }[]
    ).map((e) => ({
      status: e.status,
      addedIn: e.snapshot_id,
      path: local(e.data_file.file_path),
      rows: e.data_file.record_count,
      partition: e.data_file.partition,
    })),
  );
}

describe('Iceberg metadata for every snapshot', () => {
  it('projects each commit: snapshots, manifests, partition values, schema evolution, time travel, vacuum and repair', async () => {
    const { lake } = await openTestLake({ tables: { 'gold.sales': { partitionBy: { column: 'day', granularity: 'day' } } } });
    const root = lake.config.lakePath;
    await lake.write('gold.sales', "SELECT DATE '2024-01-01' + (i % 2)::INT AS day, i AS n FROM range(4) t(i)", { mode: 'append' });
    await lake.write('gold.sales', "SELECT DATE '2024-01-03' AS day, 10::BIGINT AS n, 'new' AS note", { mode: 'append' });
    let { version, metadata } = current(root, 'gold.sales');
    expect(version).toBe(2);
    expect(metadata['current-snapshot-id']).toBe(2);
    expect(metadata.snapshots.map((s) => [s['snapshot-id'], s['parent-snapshot-id'], s.summary.operation, s.summary['total-records']])).toEqual([
      [1, undefined, 'append', '4'],
      [2, 1, 'append', '5'],
    ]);
    // The hidden partitioning, as Iceberg's day transform of the source column.
    const nId = metadata.schemas.at(-1)!.fields.find((f) => f.name === 'day')!.id;
    expect(metadata['partition-specs']).toEqual([{ 'spec-id': 0, fields: [{ name: 'day_day', transform: 'day', 'source-id': nId, 'field-id': 1000 }] }]);
    // Schema evolution: a new column gets a new id, the old ones keep theirs; snapshot 1 keeps its schema.
    expect(metadata.schemas.map((s) => s.fields.map((f) => `${f.id}:${f.name}`))).toEqual([
      ['1:day', '2:n'],
      ['1:day', '2:n', '3:note'],
    ]);
    expect(metadata.snapshots.map((s) => s['schema-id'])).toEqual([0, 1]);
    expect(JSON.parse(metadata.properties['schema.name-mapping.default']!)).toEqual([
      { 'field-id': 1, names: ['day'] },
      { 'field-id': 2, names: ['n'] },
      { 'field-id': 3, names: ['note'] },
    ]);
    // Snapshot 2 lists snapshot 1's files as EXISTING and its own as ADDED, each with its day as days since 1970.
    const files2 = manifestFiles(metadata, 2);
    expect(files2.map((f) => [f.status, f.addedIn, f.partition.day_day, f.rows]).sort()).toEqual([
      [0, 1, 19723, 2],
      [0, 1, 19724, 2],
      [1, 2, 19725, 1],
    ]);
    expect(files2.every((f) => existsSync(f.path))).toBe(true);
    // Time travel: snapshot 1 is listed with its own files.
    expect(
      manifestFiles(metadata, 1)
        .map((f) => f.rows)
        .sort(),
    ).toEqual([2, 2]);

    // An overwrite: the new snapshot lists only its files; nothing to do when published again.
    await lake.write('gold.sales', "SELECT DATE '2024-02-01' AS day, 7::BIGINT AS n, 'x' AS note", { mode: 'overwrite' });
    ({ version, metadata } = current(root, 'gold.sales'));
    expect(metadata.snapshots.at(-1)!.summary).toMatchObject({
      operation: 'overwrite',
      'added-data-files': '1',
      'deleted-data-files': '3',
      'total-records': '1',
    });
    expect(manifestFiles(metadata, 3).map((f) => [f.status, f.rows])).toEqual([[1, 1]]);
    expect((await publishIceberg(lake, 'gold.sales')).version).toBeUndefined();

    // A crash between the catalog commit and the projection: the next publish repairs it.
    rmSync(path.join(root, metadataFolder('gold.sales'), `v${version}.metadata.json`));
    writeFileSync(path.join(root, metadataFolder('gold.sales'), 'version-hint.text'), String(version - 1));
    expect(current(root, 'gold.sales').metadata['current-snapshot-id']).toBe(2);
    const [repaired] = await publishAll(lake, ['gold.sales']);
    expect(repaired).toMatchObject({ table: 'gold.sales', version });
    expect(current(root, 'gold.sales').metadata['current-snapshot-id']).toBe(3);

    // Vacuum: expired snapshots leave the metadata before their files go; unreferenced metadata files are removed.
    await lake.vacuum({ snapshotDays: 0, keepLast: 1, orphanMinutes: 0 });
    ({ metadata } = current(root, 'gold.sales'));
    expect(metadata.snapshots.map((s) => s['snapshot-id'])).toEqual([3]);
    expect(metadata.snapshots[0]!['parent-snapshot-id']).toBeUndefined();
    expect(manifestFiles(metadata, 3).every((f) => existsSync(f.path))).toBe(true);
    const left = readdirNames(path.join(root, metadataFolder('gold.sales'))).filter((n) => n.endsWith('.avro'));
    expect(left.some((n) => n.startsWith('snap-1-') || n.startsWith('m-1-'))).toBe(false);

    // A table dropped takes its metadata with it.
    await lake.drop('gold.sales');
    expect(existsSync(path.join(root, metadataFolder('gold.sales'), 'version-hint.text'))).toBe(false);
  });

  it('is off with lake.iceberg: false', async () => {
    const { lake } = await openTestLake({ lake: { iceberg: false } });
    await lake.write('gold.t', 'SELECT 1 AS a', { mode: 'append' });
    expect(existsSync(path.join(lake.config.lakePath, metadataFolder('gold.t')))).toBe(false);
  });
});

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
