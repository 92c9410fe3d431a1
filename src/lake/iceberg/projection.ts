import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ColumnInfo, DataFile, SnapshotInfo } from '../../catalog/types.js';
import { errorMessage } from '../../errors.js';
import type { Lake } from '../lake.js';
import { effectiveSchemas } from '../schema-diff.js';
import { parseTableName } from '../table-name.js';
import { avroContainer, readAvroContainer } from './avro-file.js';
import { FieldIds, type IcebergSchema, icebergSchema, nameMapping } from './schema.js';

/**
 * Every lake table is also an Apache Iceberg table (format v2): after each catalog commit, the table's snapshots are
 * projected as Iceberg metadata under `<layer>/<table>/metadata/` — `vN.metadata.json`, manifest lists and manifests
 * in Avro, `version-hint.text` — so that Spark, Trino or Flink with a path-based (Hadoop) catalog at the lake root
 * (namespace = layer) read exactly the files of a committed snapshot. The catalog stays the source of truth: the
 * projection is written after the commit, from what the catalog holds, and only ever shows committed snapshots; a
 * projection that failed (a crash between the two) is repaired by the next commit or `tributary lake publish`.
 *
 * Snapshot ids and sequence numbers are the catalog's (so `VERSION AS OF 3` is Tributary's snapshot 3); expired
 * snapshots leave the metadata; schema versions keep their field ids (a name mapping lets readers find them in
 * Parquet files written without ids); the table's hidden date partitioning is a `day`/`month`/`year` transform when
 * the partition values are the transform's (docs/iceberg.md).
 */

export interface PublishResult {
  table: string;
  /** The metadata version written (undefined: the projection was already current). */
  version: number | undefined;
  snapshots: number;
  manifests: number;
}

interface PreviousMetadata {
  version: number;
  metadata: TableMetadata;
}

interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: IcebergSchema[];
  'default-spec-id': number;
  'partition-specs': PartitionSpec[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': { 'order-id': number; fields: never[] }[];
  properties: Record<string, string>;
  'current-snapshot-id'?: number;
  refs: Record<string, { 'snapshot-id': number; type: 'branch' }>;
  snapshots: IcebergSnapshot[];
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': number }[];
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[];
}

interface PartitionSpec {
  'spec-id': number;
  fields: { name: string; transform: string; 'source-id': number; 'field-id': number }[];
}

interface IcebergSnapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string>;
  'schema-id': number;
}

const PARTITION_FIELD_ID = 1000;
const MAX_METADATA_LOG = 20;
/** Snapshots an Iceberg version lists at most (the most recent ones); older ones stay readable through Tributary. */
const MAX_SNAPSHOTS = 500;

/** Where a table's Iceberg metadata lives, relative to the lake root. */
export function metadataFolder(table: string): string {
  const ref = parseTableName(table);
  return `${ref.layer}/${ref.table}/metadata`;
}

/**
 * Publishes one table's Iceberg metadata for the catalog's snapshots (nothing when it is already current). Work is
 * incremental: snapshots an earlier version already lists keep their entries; only new ones get manifests.
 */
export async function publishIceberg(lake: Lake, table: string, options: { maxSnapshots?: number } = {}): Promise<PublishResult> {
  const folder = metadataFolder(table);
  const info = await lake.catalog.getTable(table);
  if (!info || info.currentSnapshot === 0) return { table, version: undefined, snapshots: 0, manifests: 0 };
  const all = await lake.catalog.history(table);
  // The most recent snapshots that vacuum kept (at most maxSnapshots: a stream commits thousands a day).
  const history = all
    .filter((s) => !s.expired)
    .sort((a, b) => a.snapshotId - b.snapshotId)
    .slice(-(options.maxSnapshots ?? MAX_SNAPSHOTS));
  const written = new Map(all.map((s) => [s.snapshotId, s.schema]));
  const effective = effectiveSchemas(all);
  const previous = await readPrevious(lake, folder);
  const location = tableUri(lake, table);
  const current = history[history.length - 1]!;
  const currentFiles = (await lake.catalog.resolveSnapshot(table, { snapshotId: current.snapshotId }))?.files ?? [];
  const ids = previous ? FieldIds.fromSchemas(previous.metadata.schemas, previous.metadata['last-column-id']) : new FieldIds();

  // The partition spec: the earlier version's while the new files fit it, else what the files allow.
  const timezone = await lake.engine.query(`SELECT current_setting('TimeZone') AS tz`).then(
    (r) => String(r.rows[0]?.tz ?? ''),
    () => '',
  );
  const columns = effective.get(current.snapshotId) ?? current.schema;
  let spec = partitionSpec(info.partitionSpec, columns, ids, currentFiles, timezone);
  const prevSpec = previous?.metadata['partition-specs'][0];
  const specChanged = !prevSpec || JSON.stringify(prevSpec) !== JSON.stringify(spec.spec);
  if (specChanged && spec.spec.fields.length) {
    // A new spec covers every snapshot listed: each of their files must have its partition value.
    const files: DataFile[] = [];
    for (const s of history) files.push(...((await lake.catalog.resolveSnapshot(table, { snapshotId: s.snapshotId }))?.files ?? []));
    spec = partitionSpec(info.partitionSpec, columns, ids, files, timezone);
  }
  const prevById = new Map((previous && !specChanged ? previous.metadata.snapshots : []).map((p) => [p['snapshot-id'], p]));

  const schemas: IcebergSchema[] = [];
  const omitted = new Set<string>(previous?.metadata.properties['tributary.omitted-columns']?.split('; ').filter(Boolean) ?? []);
  const schemaOf = (s: SnapshotInfo, files: readonly DataFile[]): IcebergSchema => {
    const lists: ColumnInfo[][] = [effective.get(s.snapshotId) ?? s.schema];
    for (const added of new Set(files.map((f) => f.addedSnapshot))) lists.push(written.get(added) ?? []);
    const { schema, omitted: left } = icebergSchema(lists, 0, ids);
    for (const o of left) omitted.add(o);
    const fields = JSON.stringify(schema.fields);
    const known = [...schemas, ...(previous?.metadata.schemas ?? [])].find((k) => JSON.stringify(k.fields) === fields);
    if (known) {
      if (!schemas.includes(known)) schemas.push(known);
      return known;
    }
    const entry: IcebergSchema = { ...schema, 'schema-id': nextSchemaId(previous, schemas) };
    schemas.push(entry);
    return entry;
  };

  const snapshots: IcebergSnapshot[] = [];
  let manifestsWritten = 0;
  for (const s of history) {
    const kept = prevById.get(s.snapshotId);
    if (kept) {
      const schema = previous!.metadata.schemas.find((k) => k['schema-id'] === kept['schema-id']);
      if (schema && !schemas.includes(schema)) schemas.push(schema);
      // Its parent left the window (or was expired): the entry without it.
      const { 'parent-snapshot-id': parentId, ...rest } = kept;
      snapshots.push(parentId !== undefined && history.some((h) => h.snapshotId === parentId) ? kept : rest);
      continue;
    }
    const files = s.snapshotId === current.snapshotId ? currentFiles : ((await lake.catalog.resolveSnapshot(table, { snapshotId: s.snapshotId }))?.files ?? []);
    const parent = all.find((p) => p.snapshotId === s.parentId && !p.expired);
    const parentFiles = parent ? (await lake.catalog.resolveSnapshot(table, { snapshotId: parent.snapshotId }))?.files : undefined;
    const schema = schemaOf(s, files);
    const listName = `snap-${s.snapshotId}-${spec.key}.avro`;
    if (!(await lake.storage.stat(`${folder}/${listName}`))) {
      const { list, written: n } = await writeManifests(lake, table, location, s, files, spec, schema);
      manifestsWritten += n;
      await lake.storage.put(`${folder}/${listName}`, list);
    }
    snapshots.push({
      'snapshot-id': s.snapshotId,
      ...(parent && history.some((h) => h.snapshotId === parent.snapshotId) ? { 'parent-snapshot-id': parent.snapshotId } : {}),
      'sequence-number': s.snapshotId,
      'timestamp-ms': s.committedAt.getTime(),
      'manifest-list': `${location}/metadata/${listName}`,
      summary: summaryOf(s, files, parentFiles),
      'schema-id': schema['schema-id'],
    });
  }
  const currentSchema = schemas.find((k) => k['schema-id'] === snapshots[snapshots.length - 1]!['schema-id'])!;
  const allSchemas = [...new Set(schemas)].sort((a, b) => a['schema-id'] - b['schema-id']);
  const properties: Record<string, string> = {
    'schema.name-mapping.default': JSON.stringify(nameMapping(allSchemas)),
    'write.format.default': 'parquet',
    'tributary.table': table,
    'tributary.note': 'written by Tributary from its catalog; read-only for other engines (their commits would be overwritten)',
    ...(omitted.size ? { 'tributary.omitted-columns': [...omitted].join('; ') } : {}),
  };
  const body = {
    'table-uuid': previous?.metadata['table-uuid'] ?? randomUUID(),
    location,
    'last-sequence-number': current.snapshotId,
    'last-column-id': ids.last,
    'current-schema-id': currentSchema['schema-id'],
    schemas: allSchemas,
    'default-spec-id': spec.spec['spec-id'],
    'partition-specs': [spec.spec],
    'last-partition-id': spec.spec.fields.length ? PARTITION_FIELD_ID : PARTITION_FIELD_ID - 1,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties,
    'current-snapshot-id': current.snapshotId,
    refs: { main: { 'snapshot-id': current.snapshotId, type: 'branch' as const } },
    snapshots,
    'snapshot-log': snapshots.map((s) => ({ 'timestamp-ms': s['timestamp-ms'], 'snapshot-id': s['snapshot-id'] })),
  };
  // Already current: the same snapshots, schemas and spec as the latest version.
  if (previous && sameProjection(previous.metadata, body)) return { table, version: undefined, snapshots: snapshots.length, manifests: 0 };
  const version = (previous?.version ?? 0) + 1;
  const metadataLog = [
    ...(previous?.metadata['metadata-log'] ?? []),
    ...(previous ? [{ 'timestamp-ms': previous.metadata['last-updated-ms'], 'metadata-file': `${location}/metadata/v${previous.version}.metadata.json` }] : []),
  ].slice(-MAX_METADATA_LOG);
  const metadata: TableMetadata = {
    'format-version': 2,
    ...body,
    'last-updated-ms': Math.max(Date.now(), current.committedAt.getTime()),
    'metadata-log': metadataLog,
  };
  // The version file first, then the hint: a reader finds either the previous version or the complete new one.
  await lake.storage.put(`${folder}/v${version}.metadata.json`, Buffer.from(JSON.stringify(metadata)));
  await lake.storage.put(`${folder}/version-hint.text`, Buffer.from(String(version)));
  return { table, version, snapshots: snapshots.length, manifests: manifestsWritten };
}

/**
 * Deletes the metadata files the current version no longer needs, as Iceberg's own snapshot expiry does: manifest
 * lists and manifests it does not reach, and versions older than its metadata log. Run by vacuum after it expired
 * snapshots (whose data files are gone, so older versions could not be read anyway).
 */
export async function pruneIcebergMetadata(lake: Lake, table: string): Promise<number> {
  const folder = metadataFolder(table);
  const previous = await readPrevious(lake, folder);
  if (!previous) return 0;
  const keep = new Set<string>(['version-hint.text', `v${previous.version}.metadata.json`]);
  for (const entry of previous.metadata['metadata-log']) keep.add(path.posix.basename(entry['metadata-file']));
  for (const snap of previous.metadata.snapshots) {
    const list = path.posix.basename(snap['manifest-list']);
    keep.add(list);
    const bytes = await lake.storage.get(`${folder}/${list}`);
    if (!bytes) continue;
    for (const m of readAvroContainer(Buffer.from(bytes)).records as { manifest_path: string }[]) keep.add(path.posix.basename(m.manifest_path));
  }
  const gone: string[] = [];
  for await (const o of lake.storage.list(`${folder}/`)) if (!keep.has(path.posix.basename(o.key)) && !o.key.endsWith('.tmp')) gone.push(o.key);
  await lake.storage.delete(gone);
  return gone.length;
}

/** Publishes every table (or those named); a table that fails is reported, the others go on. */
export async function publishAll(lake: Lake, tables?: readonly string[]): Promise<(PublishResult | { table: string; error: string })[]> {
  const names = tables ?? (await lake.catalog.listTables()).map((t) => t.name);
  const out: (PublishResult | { table: string; error: string })[] = [];
  for (const table of names) {
    try {
      out.push(await publishIceberg(lake, table));
    } catch (err) {
      out.push({ table, error: errorMessage(err) });
    }
  }
  return out;
}

function nextSchemaId(previous: PreviousMetadata | undefined, schemas: readonly IcebergSchema[]): number {
  const used = [...(previous?.metadata.schemas ?? []), ...schemas].map((s) => s['schema-id']);
  return used.length ? Math.max(...used) + 1 : 0;
}

function sameProjection(previous: TableMetadata, next: Omit<TableMetadata, 'format-version' | 'last-updated-ms' | 'metadata-log'>): boolean {
  const pick = (m: typeof next) =>
    JSON.stringify([m['current-snapshot-id'], m.snapshots, m.schemas, m['partition-specs'], m.properties, m.location, m['last-column-id']]);
  return pick(previous) === pick(next);
}

async function readPrevious(lake: Lake, folder: string): Promise<PreviousMetadata | undefined> {
  const hint = await lake.storage.get(`${folder}/version-hint.text`);
  let version = hint ? Number(Buffer.from(hint).toString().trim()) : Number.NaN;
  if (!Number.isInteger(version) || version < 1) {
    // No hint (or a broken one): the highest version present, as a path-based catalog finds it.
    version = 0;
    for await (const o of lake.storage.list(`${folder}/`)) {
      const m = /^v(\d+)\.metadata\.json$/.exec(path.posix.basename(o.key));
      if (m) version = Math.max(version, Number(m[1]));
    }
    if (version === 0) return undefined;
  }
  const bytes = await lake.storage.get(`${folder}/v${version}.metadata.json`);
  if (!bytes) return undefined;
  try {
    return { version, metadata: JSON.parse(Buffer.from(bytes).toString()) as TableMetadata };
  } catch {
    return undefined;
  }
}

/** The table's location as a URI other engines open (a `file:` path for a local lake). */
function tableUri(lake: Lake, table: string): string {
  const ref = parseTableName(table);
  const root = lake.storage.root;
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(root)) return `${root.replace(/\/+$/, '')}/${ref.layer}/${ref.table}`;
  return `file:${path.resolve(root, ref.layer, ref.table)}`;
}

function fileUri(location: string, table: string, key: string): string {
  // Keys are relative to the lake root; the table's location ends with `<layer>/<table>`.
  const ref = parseTableName(table);
  const prefix = `${ref.layer}/${ref.table}/`;
  return key.startsWith(prefix) ? `${location}/${key.slice(prefix.length)}` : `${location.slice(0, -prefix.length)}/${key}`;
}

interface Spec {
  spec: PartitionSpec;
  /** Turns a file's partition key into the transform's value. */
  value: (file: DataFile) => number | null;
  /** Names the spec in manifest-list names, so that a change of spec writes new lists. */
  key: string;
}

/**
 * The table's hidden partitioning as an Iceberg spec: `day`, `month` or `year` of a DATE or TIMESTAMP column (of a
 * TIMESTAMPTZ column when the engine's time zone is UTC, in which the partition values are computed), when every
 * file has its partition value. Otherwise unpartitioned: always correct, only without pruning.
 */
function partitionSpec(partitionSpecJson: string | undefined, columns: readonly ColumnInfo[], ids: FieldIds, files: DataFile[], timezone: string): Spec {
  const none: Spec = { spec: { 'spec-id': 0, fields: [] }, value: () => null, key: 'u' };
  if (!partitionSpecJson) return none;
  let by: { column: string; granularity?: 'day' | 'month' | 'year' };
  try {
    by = JSON.parse(partitionSpecJson) as typeof by;
  } catch {
    return none;
  }
  const type = columns.find((c) => c.name === by.column)?.type.toUpperCase();
  const utc = /^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z)$/i.test(timezone);
  const ok = type === 'DATE' || type === 'TIMESTAMP' || ((type === 'TIMESTAMP WITH TIME ZONE' || type === 'TIMESTAMPTZ') && utc);
  if (!ok || files.some((f) => f.partitionKey === undefined)) return none;
  const granularity = by.granularity ?? 'day';
  const value = (file: DataFile): number | null => {
    const k = file.partitionKey;
    if (!k || k === 'NULL' || k === '__HIVE_DEFAULT_PARTITION__') return null;
    const [y, m, d] = k.split('-').map(Number) as [number, number?, number?];
    if (granularity === 'year') return y - 1970;
    if (granularity === 'month') return (y - 1970) * 12 + ((m ?? 1) - 1);
    return Math.round(Date.UTC(y, (m ?? 1) - 1, d ?? 1) / 86_400_000);
  };
  return {
    spec: {
      'spec-id': 0,
      fields: [{ name: `${by.column}_${granularity}`, transform: granularity, 'source-id': ids.id(by.column), 'field-id': PARTITION_FIELD_ID }],
    },
    value,
    key: `${granularity[0]}`,
  };
}

/** A summary as Iceberg's (Appendix F) from what the catalog knows. */
function summaryOf(s: SnapshotInfo, files: readonly DataFile[], parentFiles: readonly DataFile[] | undefined): Record<string, string> {
  const before = new Set((parentFiles ?? []).map((f) => f.path));
  const now = new Set(files.map((f) => f.path));
  const added = files.filter((f) => !before.has(f.path));
  const removed = (parentFiles ?? []).filter((f) => !now.has(f.path));
  const operation = removed.length === 0 ? 'append' : s.operation === 'compact' ? 'replace' : added.length === 0 ? 'delete' : 'overwrite';
  const sum = (list: readonly DataFile[], k: 'rowCount' | 'sizeBytes') => String(list.reduce((n, f) => n + f[k], 0));
  return {
    operation,
    'added-data-files': String(added.length),
    'deleted-data-files': String(removed.length),
    'added-records': sum(added, 'rowCount'),
    'deleted-records': sum(removed, 'rowCount'),
    'total-data-files': String(files.length),
    'total-records': sum(files, 'rowCount'),
    'total-files-size': sum(files, 'sizeBytes'),
    'total-delete-files': '0',
    'total-position-deletes': '0',
    'total-equality-deletes': '0',
    'tributary.operation': s.operation,
    ...(s.runId ? { 'tributary.run-id': s.runId } : {}),
  };
}

// ---- manifests -------------------------------------------------------------------------------------------------

const optional = (type: unknown, id: number, name: string) => ({ name, type: ['null', type], default: null, 'field-id': id });

function manifestEntrySchema(spec: PartitionSpec): object {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      optional('long', 1, 'snapshot_id'),
      optional('long', 3, 'sequence_number'),
      optional('long', 4, 'file_sequence_number'),
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134, doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes' },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition',
              'field-id': 102,
              type: { type: 'record', name: 'r102', fields: spec.fields.map((f) => optional('int', f['field-id'], f.name)) },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
          ],
        },
      },
    ],
  };
}

const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
  ],
};

/**
 * The manifests of one snapshot and its manifest list. Files are grouped by the snapshot that added them: the group
 * of this snapshot as ADDED entries, every earlier group as EXISTING ones with its sequence numbers. A manifest is
 * named by its content, so an unchanged group's manifest is written once and listed by every later snapshot.
 */
async function writeManifests(
  lake: Lake,
  table: string,
  location: string,
  s: SnapshotInfo,
  files: readonly DataFile[],
  spec: Spec,
  schema: IcebergSchema,
): Promise<{ list: Buffer; written: number }> {
  const folder = metadataFolder(table);
  const groups = new Map<number, DataFile[]>();
  for (const f of files) groups.set(f.addedSnapshot, [...(groups.get(f.addedSnapshot) ?? []), f]);
  const entrySchema = manifestEntrySchema(spec.spec);
  const metadata = {
    schema: JSON.stringify(schema),
    'schema-id': String(schema['schema-id']),
    'partition-spec': JSON.stringify(spec.spec.fields),
    'partition-spec-id': String(spec.spec['spec-id']),
    'format-version': '2',
    content: 'data',
  };
  const listed: Record<string, unknown>[] = [];
  let written = 0;
  for (const [addedAt, group] of [...groups].sort((a, b) => a[0] - b[0])) {
    const added = addedAt === s.snapshotId;
    const entries = group
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((f) => {
        const partition: Record<string, number | null> = {};
        for (const field of spec.spec.fields) partition[field.name] = spec.value(f);
        return {
          status: added ? 1 : 0,
          snapshot_id: addedAt,
          // ADDED entries inherit their sequence numbers from the list; EXISTING ones carry them.
          sequence_number: added ? null : addedAt,
          file_sequence_number: added ? null : addedAt,
          data_file: {
            content: 0,
            file_path: fileUri(location, table, f.path),
            file_format: 'PARQUET',
            partition,
            record_count: f.rowCount,
            file_size_in_bytes: f.sizeBytes,
          },
        };
      });
    const hash = createHash('sha256')
      .update(JSON.stringify([spec.key, added, addedAt, entries.map((e) => e.data_file.file_path)]))
      .digest('hex')
      .slice(0, 16);
    const name = `m-${addedAt}-${added ? 'a' : 'e'}-${hash}.avro`;
    let length: number;
    const stat = await lake.storage.stat(`${folder}/${name}`);
    if (stat) length = stat.sizeBytes;
    else {
      const bytes = avroContainer(entrySchema, entries, metadata);
      await lake.storage.put(`${folder}/${name}`, bytes);
      length = bytes.length;
      written++;
    }
    const rows = group.reduce((n, f) => n + f.rowCount, 0);
    listed.push({
      manifest_path: `${location}/metadata/${name}`,
      manifest_length: length,
      partition_spec_id: spec.spec['spec-id'],
      content: 0,
      sequence_number: addedAt,
      min_sequence_number: addedAt,
      added_snapshot_id: addedAt,
      added_files_count: added ? group.length : 0,
      existing_files_count: added ? 0 : group.length,
      deleted_files_count: 0,
      added_rows_count: added ? rows : 0,
      existing_rows_count: added ? 0 : rows,
      deleted_rows_count: 0,
    });
  }
  const list = avroContainer(MANIFEST_FILE_SCHEMA, listed, {
    'snapshot-id': String(s.snapshotId),
    'parent-snapshot-id': String(s.parentId > 0 ? s.parentId : 'null'),
    'sequence-number': String(s.snapshotId),
    'format-version': '2',
  });
  return { list, written };
}
