import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import { openCatalog } from '../catalog/open.js';
import type { ColumnInfo, CommitResult, DataFileInput, SnapshotInfo, TableChange, TableInfo } from '../catalog/types.js';
import type { PartitionGranularity, ResolvedConfig, TableConfig } from '../config/types.js';
import { Engine, fileLiteral, firstLine, selectFiles, type QueryResult } from '../engine/engine.js';
import { TributaryError, errorMessage } from '../errors.js';
import { openStorage, type Storage } from '../storage/index.js';
import { newId } from '../util/ids.js';
import { nearest } from '../util/nearest.js';
import { processAlive } from '../util/process.js';
import type { AsOf } from './as-of.js';
import { quoteIdent, quoteLiteral } from '../engine/sql.js';
import { metadataFolder, publishIceberg, pruneIcebergMetadata } from './iceberg/projection.js';
import { parseTableName } from './table-name.js';

/** The hidden column a partitioned write is split on; it is not stored in the files. */
const PART_COLUMN = '__tributary_part';
/** Files a stream replaces at every batch (open windows of on-update outputs): never compacted. */
export const OPEN_FOLDER = '_open';

/** Where writers register the writes they have in flight, so that vacuum never takes their files for orphans. */
const INFLIGHT_FOLDER = '_inflight';

interface InflightMarker {
  prefix: string;
  pid: number;
  host: string;
  startedAt: string;
  /** When the commit naming these files was sent: from then on the catalog may hold them even if the writer dies. */
  committingAt?: string;
}

/**
 * How long a dead writer's files stay protected after it sent their commit: a PostgreSQL catalog may still commit
 * the transaction of a client killed mid-COMMIT (the server finishes what it received), seconds later under load.
 */
const COMMIT_GRACE_MS = 10 * 60_000;

export interface WrittenFiles {
  table: string;
  files: DataFileInput[];
  schema: ColumnInfo[];
  partitionSpec: string | undefined;
  rowCount: number;
}

/**
 * The lake: tables made of immutable Parquet files, whose snapshots the catalog records.
 * Writers write new files first, then commit one catalog transaction; readers resolve a snapshot to its files.
 */
export class Lake {
  /** Writes of this process not yet committed or discarded: write id → key prefix of their files. */
  private readonly inflight = new Map<string, string>();
  /** The markers of this process's writes in flight, by write id. */
  private readonly markers = new Map<string, InflightMarker>();
  /** Tables whose Iceberg projection failed (reported once until it succeeds again). */
  private readonly icebergFailures = new Set<string>();

  private constructor(
    readonly config: ResolvedConfig,
    readonly catalog: Catalog,
    readonly storage: Storage,
    readonly engine: Engine,
  ) {}

  static async open(config: ResolvedConfig): Promise<Lake> {
    mkdirSync(config.lakePath, { recursive: true });
    const catalog = await openCatalog(config.catalog);
    let engine: Engine;
    try {
      engine = await Engine.open({ ...config.engine, tempDirectory: path.join(config.lakePath, '_tmp') });
    } catch (err) {
      await catalog.close();
      throw new TributaryError('CONFIG_INVALID', `engine: DuckDB refused the settings ${JSON.stringify(config.engine)}: ${firstLine(errorMessage(err))}`, {
        cause: err,
      });
    }
    let storage: Storage;
    try {
      storage = await openStorage(config.lakeLocation, { localDir: config.lakePath, options: config.storageOptions });
    } catch (err) {
      engine.close();
      await catalog.close();
      throw err;
    }
    return new Lake(config, catalog, storage, engine);
  }

  async close(): Promise<void> {
    await this.storage.delete([...this.inflight.keys()].map(markerKey)).catch(() => undefined);
    this.inflight.clear();
    this.engine.close();
    await this.catalog.close();
  }

  tableConfig(name: string): TableConfig {
    return this.config.tables[name] ?? {};
  }

  // ---------------------------------------------------------------- reading

  tables(): Promise<TableInfo[]> {
    return this.catalog.listTables();
  }

  history(name: string): Promise<SnapshotInfo[]> {
    parseTableName(name);
    return this.catalog.requireTable(name).then(() => this.catalog.history(name));
  }

  /** A SELECT over the table's files at a snapshot (current by default). */
  async selectSql(name: string, asOf?: AsOf): Promise<{ sql: string; snapshot: SnapshotInfo | undefined }> {
    parseTableName(name);
    const resolved = await this.catalog.resolveSnapshot(name, asOf);
    if (!resolved) return { sql: selectFiles([], []), snapshot: undefined };
    return { sql: await this.selectOfFiles(resolved.files, resolved.snapshot.schema), snapshot: resolved.snapshot };
  }

  /** Mounts tables as DuckDB views named `layer.table`, at their current snapshot or as of a point in time. */
  async mount(names: readonly string[], asOf?: AsOf): Promise<void> {
    for (const name of names) await this.mountSelect(name, (await this.selectSql(name, asOf)).sql);
  }

  /** Mounts any SELECT as the view `layer.table` (a candidate snapshot, or the new files of an incremental read). */
  async mountSelect(name: string, select: string): Promise<void> {
    const ref = parseTableName(name);
    await this.engine.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(ref.layer)}`);
    await this.engine.run(`CREATE OR REPLACE VIEW ${quoteIdent(ref.layer)}.${quoteIdent(ref.table)} AS ${select}`);
  }

  /** A SELECT over some of a table's files (paths as the catalog stores them). */
  async selectOfFiles(files: readonly { path: string }[], schema: readonly ColumnInfo[]): Promise<string> {
    await this.storage.prepareRead(files.map((f) => f.path));
    return selectFiles(
      files.map((f) => this.storage.readPath(f.path)),
      schema,
    );
  }

  /** Runs read-only SQL over the lake; tables are referred to as `layer.table`. */
  async query(
    sql: string,
    options: { asOf?: AsOf /** rows as exact text values (see Engine.queryJson) */; json?: { numbers: boolean } } = {},
  ): Promise<QueryResult> {
    await this.engine.assertReadOnly(sql);
    const names = (await this.tables()).map((t) => t.name);
    const wanted = names.filter((name) => mentions(sql, name));
    await this.mount(wanted, options.asOf);
    try {
      return options.json ? await this.engine.queryJson(sql, options.json) : await this.engine.query(sql);
    } catch (err) {
      const message = firstLine(errorMessage(err));
      // DuckDB says "schema gold does not exist" for a table of the lake that does not exist: name the table.
      const missing = /Catalog Error: (Table|Schema) with name "?([A-Za-z_][A-Za-z0-9_.]*)"? does not exist/i.exec(message);
      if (missing) {
        const name = missing[2]!.toLowerCase();
        const refs = [...sql.matchAll(/\b"?([A-Za-z_][A-Za-z0-9_]*)"?\s*\.\s*"?([A-Za-z_][A-Za-z0-9_]*)"?/g)].map((m) => `${m[1]}.${m[2]}`.toLowerCase());
        const table = refs.find((r) => !names.includes(r) && (r === name || r.startsWith(`${name}.`) || r.endsWith(`.${name}`)));
        if (table) {
          const near = nearest(table, names);
          throw new TributaryError('TABLE_NOT_FOUND', `SQL: table ${table} does not exist in the lake`, {
            hint: near
              ? `did you mean ${near}? (see \`tributary lake tables\`)`
              : names.length
                ? `tables: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}`
                : 'the lake has no tables yet: run `tributary ingest` first',
            cause: err,
          });
        }
      }
      throw new TributaryError('SQL_ERROR', `SQL: ${message}`, { cause: err });
    }
  }

  async show(name: string, options: { asOf?: AsOf; limit?: number } = {}): Promise<QueryResult & { snapshot: SnapshotInfo | undefined }> {
    const { sql, snapshot } = await this.selectSql(name, options.asOf);
    const result = await this.engine.query(`SELECT * FROM (${sql}) LIMIT ${Math.max(0, Math.floor(options.limit ?? 20))}`);
    return { ...result, snapshot };
  }

  // ---------------------------------------------------------------- writing

  /**
   * Runs `select` in DuckDB and writes its result as new Parquet files of `table` (zstd), partitioned as the table
   * is configured. Nothing is visible until the files are committed; on failure the written files are removed.
   */
  async writeFiles(
    table: string,
    select: string,
    options: {
      onProgress?: (percent: number) => void;
      /** false lets DuckDB write rows as they come: faster, flat memory */
      preserveOrder?: boolean;
      /** Write under `data/<folder>/`: `_open` holds a stream's replaceable open windows, which compaction leaves alone. */
      folder?: string;
      /**
       * Rows per Parquet row group (DuckDB's default: 122,880). The writer holds a row group in memory: wide rows
       * (whole HTTP responses, documents) need smaller groups.
       */
      rowGroupSize?: number;
    } = {},
  ): Promise<WrittenFiles> {
    const ref = parseTableName(table);
    const partitionBy = this.tableConfig(table).partitionBy;
    const writeId = newId('w');
    const base = `${ref.layer}/${ref.table}/data${options.folder ? `/${options.folder}` : ''}`;
    let target: string;
    let sql: string;
    if (partitionBy) {
      target = this.storage.writePath(`${base}/${writeId}`);
      sql = `COPY (SELECT *, ${partitionExpression(partitionBy.column, partitionBy.granularity ?? 'day')} AS ${PART_COLUMN} FROM (${select}))
             TO ${quoteLiteral(target)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (${PART_COLUMN}), FILENAME_PATTERN 'part_{uuid}', RETURN_STATS true)`;
    } else {
      target = this.storage.writePath(`${base}/${writeId}.parquet`);
      sql = `COPY (${select}) TO ${quoteLiteral(target)} (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true)`;
    }
    if (options.rowGroupSize !== undefined)
      sql = sql.replace(/, RETURN_STATS true\)$/, `, ROW_GROUP_SIZE ${Math.max(1, Math.floor(options.rowGroupSize))}, RETURN_STATS true)`);
    const prefix = partitionBy ? `${base}/${writeId}` : `${base}/${writeId}.parquet`;
    await this.registerWrite(writeId, prefix);
    let stats: Record<string, unknown>[];
    try {
      await this.storage.prepareWrite(target);
      if (options.preserveOrder === false) await this.engine.run('SET preserve_insertion_order = false');
      stats = await this.engine.all(sql, undefined, options.onProgress);
    } catch (err) {
      await this.discardPrefix(prefix);
      await this.releaseWrite(writeId);
      const lakeError = this.lakeIoError(err, `writing ${table}`);
      if (lakeError) throw lakeError;
      if (partitionBy && /partition_by|not found|does not have a column/i.test(errorMessage(err))) {
        const columns = (await this.engine.describe(select).catch(() => [])).map((c) => c.name);
        if (columns.length && !columns.includes(partitionBy.column)) {
          throw new TributaryError(
            'CONFIG_INVALID',
            `tables.${table}.partitionBy: column "${partitionBy.column}" is not in the table (columns: ${columns.join(', ')})`,
          );
        }
      }
      throw new TributaryError('SQL_ERROR', `writing ${table}: ${firstLine(errorMessage(err))}`, { cause: err });
    } finally {
      if (options.preserveOrder === false) await this.engine.run('RESET preserve_insertion_order').catch(() => undefined);
    }
    const files: DataFileInput[] = [];
    const empty: string[] = [];
    let schema: ColumnInfo[];
    try {
      for (const row of stats) {
        const key = this.storage.keyOf(String(row.filename));
        const rowCount = Number(row.count);
        if (rowCount === 0) {
          empty.push(key);
          continue;
        }
        const partitionKey = /__tributary_part=([^/]+)/.exec(key)?.[1];
        files.push({
          path: key,
          rowCount,
          sizeBytes: Number(row.file_size_bytes),
          ...(partitionKey ? { partitionKey: decodeURIComponent(partitionKey) } : {}),
        });
      }
      // The schema is read back from what was written (cheap: a Parquet footer), instead of binding the query twice;
      // not finalized yet, the file is where DuckDB wrote it.
      const schemaSource = files[0] ?? (empty[0] ? { path: empty[0] } : undefined);
      schema = schemaSource
        ? (await this.engine.describe(`SELECT * FROM read_parquet(${fileLiteral(this.storage.writePath(schemaSource.path))})`)).filter(
            (c) => c.name !== PART_COLUMN,
          )
        : await this.engine.describe(select);
      await this.storage.delete(empty);
      await this.storage.finalize(files.map((f) => f.path));
    } catch (err) {
      // The query ran: what fails now is the lake's side (a file removed under the write, the disk).
      await this.discardPrefix(prefix);
      await this.releaseWrite(writeId);
      throw (
        this.lakeIoError(err, `writing ${table}`) ??
        new TributaryError('LAKE_IO', `writing ${table}: ${firstLine(errorMessage(err))} (lake ${this.storage.root})`, { cause: err })
      );
    }
    return {
      table,
      files,
      schema,
      partitionSpec: partitionBy ? JSON.stringify(partitionBy) : undefined,
      rowCount: files.reduce((n, f) => n + f.rowCount, 0),
    };
  }

  /** Turns written files into a table change for `Catalog.commit`. */
  change(written: WrittenFiles, operation: 'append' | 'overwrite' | 'replay', summary?: Record<string, unknown>): TableChange {
    return {
      table: written.table,
      operation,
      addFiles: written.files,
      ...(operation === 'overwrite' ? { removeFiles: 'all' as const } : {}),
      schema: written.schema,
      ...(written.partitionSpec ? { partitionSpec: written.partitionSpec } : {}),
      ...(summary ? { summary } : {}),
    };
  }

  /**
   * Commits. When the catalog refused the commit (a conflict), the files it would have added are deleted: they were
   * never visible. On any other error the outcome may be unknown (a connection lost during COMMIT), so the files
   * stay; if no snapshot references them, vacuum removes them as orphans.
   */
  async commit(request: Parameters<Catalog['commit']>[0]): Promise<CommitResult> {
    // Marked before the commit is sent: if this process dies during it, vacuum leaves the files to the catalog's
    // verdict for a while instead of taking them for a killed writer's orphans.
    const sent = request.changes.flatMap((c) => c.addFiles.map((f) => f.path));
    for (const [writeId, prefix] of this.inflight) {
      const marker = this.markers.get(writeId);
      if (!marker || !sent.some((key) => key.startsWith(prefix))) continue;
      marker.committingAt = new Date().toISOString();
      await this.storage.put(markerKey(writeId), new TextEncoder().encode(JSON.stringify(marker)));
    }
    let result: CommitResult;
    try {
      result = await this.catalog.commit(request);
    } catch (err) {
      if (err instanceof TributaryError && (err.code === 'COMMIT_CONFLICT' || err.code === 'ALREADY_INGESTED')) {
        await this.storage.delete(request.changes.flatMap((c) => c.addFiles.map((f) => f.path))).catch(() => undefined);
      }
      throw err;
    } finally {
      // Committed, refused or unknown: from here on the catalog, or vacuum's age rule, decides about these files.
      const added = request.changes.flatMap((c) => c.addFiles.map((f) => f.path));
      for (const [writeId, prefix] of this.inflight) {
        if (added.some((key) => key.startsWith(prefix))) await this.releaseWrite(writeId);
      }
    }
    // After the commit, never before: other engines see a snapshot once the catalog has it.
    await this.publishIceberg(Object.keys(result.snapshots));
    return result;
  }

  /**
   * Projects tables' committed snapshots as Iceberg metadata (lake/iceberg/projection.ts). A failure never fails the
   * commit that preceded it: it is reported once, and repaired by the table's next commit or `tributary lake publish`.
   */
  async publishIceberg(tables: readonly string[]): Promise<void> {
    if (!this.config.iceberg) return;
    for (const table of tables) {
      try {
        await publishIceberg(this, table);
        this.icebergFailures.delete(table);
      } catch (err) {
        if (!this.icebergFailures.has(table))
          process.stderr.write(`warning: Iceberg metadata of ${table} not published: ${errorMessage(err)} (run \`tributary lake publish ${table}\`)\n`);
        this.icebergFailures.add(table);
      }
    }
  }

  /**
   * Deletes files written but not to be committed (a batch refused, a failure before the commit), and forgets their
   * writes. Never throws: a file left behind is an orphan that vacuum removes.
   */
  async abandon(files: readonly { path: string }[]): Promise<void> {
    if (files.length === 0) return;
    await this.storage.delete(files.map((f) => f.path)).catch(() => undefined);
    await this.discardWrites(files).catch(() => undefined);
  }

  /** Forgets writes whose files the caller deleted without committing them. */
  async discardWrites(files: readonly { path: string }[]): Promise<void> {
    for (const [writeId, prefix] of this.inflight) {
      if (files.some((f) => f.path.startsWith(prefix))) await this.releaseWrite(writeId);
    }
  }

  private async registerWrite(writeId: string, prefix: string): Promise<void> {
    const marker: InflightMarker = { prefix, pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    try {
      await this.storage.put(markerKey(writeId), new TextEncoder().encode(JSON.stringify(marker)));
    } catch (err) {
      throw this.lakeIoError(err, `registering a write of ${prefix}`) ?? err;
    }
    this.inflight.set(writeId, prefix);
    this.markers.set(writeId, marker);
  }

  private async releaseWrite(writeId: string): Promise<void> {
    this.inflight.delete(writeId);
    this.markers.delete(writeId);
    await this.storage.delete([markerKey(writeId)]).catch(() => undefined);
  }

  /** Prefixes of writes in flight in any process: their files are not orphans yet. */
  private async inflightPrefixes(): Promise<string[]> {
    const prefixes: string[] = [];
    const stale: string[] = [];
    for await (const obj of this.storage.list(INFLIGHT_FOLDER)) {
      if (!obj.key.endsWith('.json')) continue;
      let marker: InflightMarker;
      try {
        marker = JSON.parse(new TextDecoder().decode(await this.storage.get(obj.key))) as InflightMarker;
      } catch {
        continue; // being replaced, or already released
      }
      // A marker of a process of this machine that is gone was left by a kill — unless the process had sent the
      // commit, which the catalog may still be finishing; another machine's marker expires in a day.
      const committing = marker.committingAt !== undefined && Date.now() - Date.parse(marker.committingAt) < COMMIT_GRACE_MS;
      const alive = marker.host === hostname() ? processAlive(marker.pid) || committing : Date.now() - Date.parse(marker.startedAt) < 86_400_000;
      if (alive) prefixes.push(marker.prefix);
      else stale.push(obj.key);
    }
    await this.storage.delete(stale).catch(() => undefined);
    return prefixes;
  }

  /**
   * The error as a lake-side failure (disk full, read-only, a lake file missing), naming the lake path; undefined
   * when the error is not about the lake (e.g. a source file that does not parse). Copies preserved in quarantine
   * are inputs, not lake files.
   */
  lakeIoError(err: unknown, action: string): TributaryError | undefined {
    if (err instanceof TributaryError) return err.code === 'LAKE_IO' ? err : undefined;
    const message = errorMessage(err);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const root = this.storage.root;
    const lakePath = message.includes(root) && !message.includes(`${root}/_quarantine/`);
    const noSpace = code === 'ENOSPC' || code === 'EDQUOT' || /No space left on device|Disk quota exceeded/i.test(message);
    const readOnly = code === 'EROFS' || /Read-only file system/i.test(message);
    if (!lakePath && !noSpace && !readOnly) return undefined;
    const why = noSpace ? 'the disk is full' : readOnly ? 'the file system is read-only' : 'a lake file could not be read or written';
    return new TributaryError('LAKE_IO', `${action}: ${why} (lake ${root}): ${firstLine(message)}`, {
      hint: noSpace
        ? "free space on the lake's disk (lake vacuum removes expired snapshots and orphans), then run again: the inputs were left as they were"
        : 'the inputs were left as they were; fix the lake folder and run again',
      cause: err,
    });
  }

  /** Writes `select` into `table` as one new snapshot, appending to or replacing its rows. */
  async write(
    table: string,
    select: string,
    options: { mode: 'append' | 'overwrite'; runId?: string; summary?: Record<string, unknown> },
  ): Promise<{ snapshotId: number; rowCount: number }> {
    const written = await this.writeFiles(table, select);
    const result = await this.commit({ ...(options.runId ? { runId: options.runId } : {}), changes: [this.change(written, options.mode, options.summary)] });
    return { snapshotId: result.snapshots[table]!, rowCount: written.rowCount };
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Rolls a table back to an earlier snapshot as a new snapshot holding exactly that snapshot's rows (its files are
   * copied: a file belongs to one range of snapshots), so time travel keeps the whole history, the mistake included.
   * Ingestion records of files that arrived after that snapshot are forgotten, so a corrected file is taken again.
   */
  async rollback(table: string, to: number, options: { runId?: string } = {}): Promise<{ snapshotId: number; rowCount: number; forgotten: number }> {
    const info = await this.catalog.requireTable(table);
    if (!Number.isInteger(to) || to < 1 || to >= info.currentSnapshot) {
      throw new TributaryError(
        'INVALID_INPUT',
        `lake rollback: ${table} is at snapshot ${info.currentSnapshot}; --to must be an earlier snapshot (1–${info.currentSnapshot - 1})`,
        {
          hint: `see \`tributary lake history ${table}\``,
        },
      );
    }
    const history = await this.catalog.history(table);
    const target = history.find((h) => h.snapshotId === to);
    if (!target || target.expired) {
      throw new TributaryError('NOT_FOUND', `lake rollback: snapshot ${to} of ${table} has expired (vacuum deleted its files)`, {
        hint: `retained snapshots: ${history
          .filter((h) => !h.expired)
          .map((h) => h.snapshotId)
          .join(', ')}`,
      });
    }
    const resolved = (await this.catalog.resolveSnapshot(table, { snapshotId: to }))!;
    const written = await this.writeFiles(table, await this.selectOfFiles(resolved.files, resolved.snapshot.schema));
    const result = await this.commit({
      ...(options.runId ? { runId: options.runId } : {}),
      changes: [{ ...this.change(written, 'overwrite', { rollbackTo: to }), operation: 'rollback', expectedSnapshot: info.currentSnapshot }],
    });
    const forgotten = await this.catalog.ingestion.forgetAfter(table, to);
    return { snapshotId: result.snapshots[table]!, rowCount: written.rowCount, forgotten };
  }

  /**
   * Drops a table: its catalog rows (snapshots, files, the ingestion records of its sources) and then its files. What
   * reads it fails until something writes it again; a source ingests its files anew.
   */
  async drop(table: string): Promise<{ files: number; snapshots: number }> {
    const info = await this.catalog.requireTable(table);
    const paths = await this.catalog.dropTable(table);
    await this.storage.delete(paths);
    // Its Iceberg metadata goes too: no engine finds a table that is no longer there.
    const metadata: string[] = [];
    for await (const o of this.storage.list(`${metadataFolder(table)}/`)) metadata.push(o.key);
    await this.storage.delete(metadata);
    return { files: paths.length, snapshots: info.currentSnapshot };
  }

  /** Merges small files (per partition) into one file each, as a `compact` snapshot with the same rows. */
  async compact(
    table: string,
    options: { runId?: string } = {},
  ): Promise<{ snapshotId: number | undefined; filesBefore: number; filesAfter: number; merged: number }> {
    const ref = parseTableName(table);
    const resolved = await this.catalog.resolveSnapshot(table);
    if (!resolved) return { snapshotId: undefined, filesBefore: 0, filesAfter: 0, merged: 0 };
    const groups = new Map<string, typeof resolved.files>();
    for (const file of resolved.files) {
      if (file.sizeBytes >= this.config.smallFileBytes || file.path.includes(`/${OPEN_FOLDER}/`)) continue;
      const key = file.partitionKey ?? '';
      groups.set(key, [...(groups.get(key) ?? []), file]);
    }
    const added: DataFileInput[] = [];
    const removed: string[] = [];
    const writeId = newId('c');
    try {
      for (const [partitionKey, files] of groups) {
        if (files.length < 2) continue;
        const key = partitionKey
          ? `${ref.layer}/${ref.table}/data/${writeId}/${PART_COLUMN}=${encodeURIComponent(partitionKey)}/part_0.parquet`
          : `${ref.layer}/${ref.table}/data/${writeId}-${added.length}.parquet`;
        const target = this.storage.writePath(key);
        await this.storage.prepareWrite(target);
        const [stats] = await this.engine.all(
          `COPY (${await this.selectOfFiles(files, resolved.snapshot.schema)}) TO ${quoteLiteral(target)} (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true)`,
        );
        added.push({ path: key, rowCount: Number(stats!.count), sizeBytes: Number(stats!.file_size_bytes), ...(partitionKey ? { partitionKey } : {}) });
        removed.push(...files.map((f) => f.path));
      }
      if (added.length === 0) return { snapshotId: undefined, filesBefore: resolved.files.length, filesAfter: resolved.files.length, merged: 0 };
      await this.storage.finalize(added.map((f) => f.path));
    } catch (err) {
      await this.storage.delete(added.map((f) => f.path));
      throw err;
    }
    const result = await this.commit({
      ...(options.runId ? { runId: options.runId } : {}),
      changes: [
        {
          table,
          operation: 'compact',
          addFiles: added,
          removeFiles: removed,
          schema: resolved.snapshot.schema,
          summary: { merged: removed.length, into: added.length },
        },
      ],
    });
    const filesAfter = resolved.files.length - removed.length + added.length;
    return { snapshotId: result.snapshots[table], filesBefore: resolved.files.length, filesAfter, merged: removed.length };
  }

  /**
   * Expires snapshots outside the retention window, deletes the files only they referenced, and deletes orphan
   * files (written by a writer that crashed before committing) once older than `orphanMinutes`.
   */
  async vacuum(options: { dryRun?: boolean; snapshotDays?: number; keepLast?: number; orphanMinutes?: number } = {}): Promise<VacuumReport> {
    const snapshotDays = options.snapshotDays ?? this.config.retention.snapshotDays;
    const keepLast = Math.max(1, options.keepLast ?? this.config.retention.keepLast);
    const orphanMinutes = options.orphanMinutes ?? this.config.retention.orphanMinutes;
    const cutoff = Date.now() - snapshotDays * 86_400_000;
    const report: VacuumReport = { dryRun: Boolean(options.dryRun), tables: [], orphanFiles: 0, deletedFiles: 0, deletedBytes: 0 };
    const sizes = new Map<string, number>();
    for await (const obj of this.listDataFiles()) sizes.set(obj.key, obj.sizeBytes);

    for (const table of await this.tables()) {
      const history = (await this.catalog.history(table.name)).filter((s) => !s.expired);
      if (history.length === 0) continue;
      const retained = history.filter((s, i) => i < keepLast || s.committedAt.getTime() >= cutoff);
      const keepFrom = Math.min(...retained.map((s) => s.snapshotId));
      const expiring = history.filter((s) => s.snapshotId < keepFrom).length;
      if (expiring === 0) continue;
      let deleted: string[];
      if (options.dryRun) deleted = await this.catalog.expirableFiles(table.name, keepFrom);
      else {
        deleted = await this.catalog.expireSnapshots(table.name, keepFrom);
        // The Iceberg metadata stops listing the expired snapshots before their files go.
        await this.publishIceberg([table.name]);
        await this.storage.delete(deleted);
        if (this.config.iceberg) await pruneIcebergMetadata(this, table.name).catch(() => undefined);
      }
      report.tables.push({ table: table.name, expiredSnapshots: expiring, keptFrom: keepFrom, deletedFiles: deleted.length });
      report.deletedFiles += deleted.length;
      report.deletedBytes += deleted.reduce((n, p) => n + (sizes.get(p) ?? 0), 0);
    }

    // In this order: a write registers before its first file and releases after its commit, so a file neither
    // known nor covered by a marker read before the catalog was is an orphan (or newer than the cutoff).
    const orphanCutoff = Date.now() - orphanMinutes * 60_000;
    const inflight = await this.inflightPrefixes();
    const known = await this.catalog.knownFilePaths();
    const orphans: string[] = [];
    for await (const obj of this.listDataFiles()) {
      if (!known.has(obj.key) && obj.modifiedAt.getTime() <= orphanCutoff && !inflight.some((prefix) => obj.key.startsWith(prefix))) {
        orphans.push(obj.key);
        report.deletedBytes += obj.sizeBytes;
      }
    }
    if (!options.dryRun) await this.storage.delete(orphans);
    report.orphanFiles = orphans.length;
    report.deletedFiles += orphans.length;
    return report;
  }

  /** Data files in storage, skipping the catalog, quarantine and temp folders (names starting with `_`). */
  private async *listDataFiles(): AsyncGenerator<{ key: string; sizeBytes: number; modifiedAt: Date }> {
    for await (const obj of this.storage.list('')) {
      if (obj.key.startsWith('_') || !/\/data\//.test(obj.key)) continue;
      yield obj;
    }
  }

  private async discardPrefix(prefix: string): Promise<void> {
    const keys: string[] = [];
    for await (const obj of this.storage.list(prefix)) keys.push(obj.key);
    if (await this.storage.exists(prefix)) keys.push(prefix);
    await this.storage.delete(keys).catch(() => undefined);
  }
}

export interface VacuumReport {
  dryRun: boolean;
  tables: { table: string; expiredSnapshots: number; keptFrom: number; deletedFiles: number }[];
  orphanFiles: number;
  deletedFiles: number;
  deletedBytes: number;
}

function markerKey(writeId: string): string {
  return `${INFLIGHT_FOLDER}/${writeId}.json`;
}

/** Whether SQL text refers to `layer.table` (quoted or not); a false positive only mounts one view too many. */
function mentions(sql: string, name: string): boolean {
  const [layer, table] = name.split('.') as [string, string];
  return new RegExp(`(^|[^A-Za-z0-9_])"?${layer}"?\\s*\\.\\s*"?${table}"?($|[^A-Za-z0-9_])`, 'i').test(sql);
}

function partitionExpression(column: string, granularity: PartitionGranularity): string {
  const col = quoteIdent(column);
  const format = granularity === 'day' ? '%Y-%m-%d' : granularity === 'month' ? '%Y-%m' : '%Y';
  // Accepts DATE, TIMESTAMP or text columns; values that are not dates land in the NULL partition.
  return `strftime(COALESCE(TRY_CAST(${col} AS TIMESTAMP), CAST(TRY_CAST(${col} AS DATE) AS TIMESTAMP)), '${format}')`;
}
