import { chunks } from '../util/chunks.js';
import { conflict } from './conflict.js';
import { TributaryError } from '../errors.js';
import type { CatalogDriver, SqlValue } from './driver.js';
import { MIGRATIONS } from './migrations.js';
import { RunLog } from './run-log.js';
import { Ingestion } from './stores/ingestion.js';
import { SourceStates } from './stores/source-state.js';
import { Backfills } from './stores/backfills.js';
import { StreamStates } from './stores/streams.js';
import { Quarantine } from './stores/quarantine.js';
import { Runs } from './stores/runs.js';
import type { ColumnInfo, CommitRequest, CommitResult, DataFile, SnapshotInfo, TableInfo } from './types.js';

/**
 * The catalog: which files make up each snapshot of each table, plus ingestion records, quarantine and runs.
 * Dialect-neutral: the same code runs on the embedded DuckDB file and on PostgreSQL.
 *
 * Concurrency: a commit first touches its tables' rows (`UPDATE … SET x = x`), which in PostgreSQL takes a row lock
 * held to the end of the transaction, so writers of one table queue up and each sees the previous one's snapshot.
 * The embedded catalog is single-writer by its file lock. Appends therefore never conflict; an overwrite or a
 * compaction states what it expects (base snapshot, files to remove) and fails with COMMIT_CONFLICT if that changed.
 */
export class Catalog {
  /** Per-model and per-check records of runs. */
  readonly runLog: RunLog;
  /** Ingestion records: the file source's state (committed with their rows through `commit`). */
  readonly ingestion: Ingestion;
  /** Cursor-style sources' states (committed with their rows through `commit`). */
  readonly sourceStates: SourceStates;
  /** Backfills and the runs of their partitions. */
  readonly backfills: Backfills;
  /** Streams' checkpoints and dead-letter replays. */
  readonly streams: StreamStates;
  /** Quarantined files. */
  readonly quarantine: Quarantine;
  /** Runs of jobs and of commands: started, finished, listed, and closed when their process is gone. */
  readonly runs: Runs;

  constructor(readonly driver: CatalogDriver) {
    this.runLog = new RunLog(driver);
    this.ingestion = new Ingestion(driver);
    this.sourceStates = new SourceStates(driver);
    this.backfills = new Backfills(driver);
    this.streams = new StreamStates(driver);
    this.quarantine = new Quarantine(driver);
    this.runs = new Runs(driver);
  }

  get location(): string {
    return this.driver.location;
  }

  async migrate(): Promise<void> {
    await this.driver.transaction(async (s) => {
      await this.driver.bootstrap(s);
      await s.query(`CREATE TABLE IF NOT EXISTS catalog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      const rows = await s.query<{ value: string }>(`SELECT value FROM catalog_meta WHERE key = 'schema_version'`);
      const version = rows[0] ? Number(rows[0].value) : 0;
      for (let v = version; v < MIGRATIONS.length; v++) {
        for (const statement of MIGRATIONS[v]!) await s.query(statement);
      }
      if (version < MIGRATIONS.length) {
        await s.query(`DELETE FROM catalog_meta WHERE key = 'schema_version'`);
        await s.query(`INSERT INTO catalog_meta (key, value) VALUES ('schema_version', $1)`, [String(MIGRATIONS.length)]);
      }
    });
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  // ---------------------------------------------------------------- tables and snapshots

  async listTables(): Promise<TableInfo[]> {
    return this.driver.read(async (s) => {
      const rows = await s.query(
        `SELECT t.name, t.layer, t.table_name, t.created_at, t.partition_spec, t.current_snapshot,
                s.committed_at, s.row_count, s.file_count, s.size_bytes
           FROM lake_tables t
           LEFT JOIN snapshots s ON s.table_name = t.name AND s.snapshot_id = t.current_snapshot
          ORDER BY t.name`,
      );
      return rows.map(toTableInfo);
    });
  }

  async getTable(name: string): Promise<TableInfo | undefined> {
    const rows = await this.driver.read((s) =>
      s.query(
        `SELECT t.name, t.layer, t.table_name, t.created_at, t.partition_spec, t.current_snapshot,
                s.committed_at, s.row_count, s.file_count, s.size_bytes
           FROM lake_tables t
           LEFT JOIN snapshots s ON s.table_name = t.name AND s.snapshot_id = t.current_snapshot
          WHERE t.name = $1`,
        [name],
      ),
    );
    return rows[0] ? toTableInfo(rows[0]) : undefined;
  }

  async requireTable(name: string): Promise<TableInfo> {
    const table = await this.getTable(name);
    if (!table) throw new TributaryError('TABLE_NOT_FOUND', `table ${name} does not exist`, { hint: 'see `tributary lake tables`' });
    return table;
  }

  async history(name: string): Promise<SnapshotInfo[]> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM snapshots WHERE table_name = $1 ORDER BY snapshot_id DESC`, [name]));
    return rows.map(toSnapshot);
  }

  /**
   * The snapshot to read: current by default, or as of a snapshot id, or the last one committed at or before a time.
   * Returns undefined for a table that exists but has no snapshot yet.
   */
  async resolveSnapshot(name: string, asOf?: { snapshotId: number } | { timestamp: Date }): Promise<{ snapshot: SnapshotInfo; files: DataFile[] } | undefined> {
    const table = await this.requireTable(name);
    return this.driver.read(async (s) => {
      let rows: Record<string, unknown>[];
      if (asOf === undefined) {
        if (table.currentSnapshot === 0) return undefined;
        rows = await s.query(`SELECT * FROM snapshots WHERE table_name = $1 AND snapshot_id = $2`, [name, table.currentSnapshot]);
      } else if ('snapshotId' in asOf) {
        rows = await s.query(`SELECT * FROM snapshots WHERE table_name = $1 AND snapshot_id = $2`, [name, asOf.snapshotId]);
        if (!rows[0])
          throw new TributaryError('SNAPSHOT_NOT_FOUND', `table ${name} has no snapshot ${asOf.snapshotId}`, {
            hint: `see \`tributary lake history ${name}\``,
          });
      } else {
        rows = await s.query(
          `SELECT * FROM snapshots WHERE table_name = $1 AND committed_at <= CAST($2 AS TIMESTAMPTZ)
            ORDER BY snapshot_id DESC LIMIT 1`,
          [name, asOf.timestamp.toISOString()],
        );
        if (!rows[0]) throw new TributaryError('SNAPSHOT_NOT_FOUND', `table ${name} has no snapshot at or before ${asOf.timestamp.toISOString()}`);
      }
      const snapshot = toSnapshot(rows[0]!);
      if (snapshot.expired) {
        throw new TributaryError('SNAPSHOT_NOT_FOUND', `snapshot ${snapshot.snapshotId} of ${name} was expired by vacuum and can no longer be read`);
      }
      const files = await s.query(
        `SELECT * FROM data_files
          WHERE table_name = $1 AND added_snapshot <= $2 AND (removed_snapshot IS NULL OR removed_snapshot > $2)
          ORDER BY added_snapshot, path`,
        [name, snapshot.snapshotId],
      );
      return { snapshot, files: files.map(toDataFile) };
    });
  }

  /**
   * Commits changes to one or more tables, and the parts the stores add (ingestion records, a source's state, a
   * stream's checkpoint), in one transaction: either every table gets its new snapshot and every part is written,
   * or nothing is.
   */
  async commit(request: CommitRequest): Promise<CommitResult> {
    const changes = [...request.changes].sort((a, b) => a.table.localeCompare(b.table));
    try {
      return await this.driver.transaction(async (s) => {
        const snapshots: Record<string, number> = {};
        for (const change of changes) {
          await s.query(
            `INSERT INTO lake_tables (name, layer, table_name, created_at, partition_spec, current_snapshot)
             VALUES ($1, $2, $3, CAST($4 AS TIMESTAMPTZ), $5, 0) ON CONFLICT (name) DO NOTHING`,
            [change.table, change.table.split('.')[0]!, change.table.split('.')[1]!, new Date().toISOString(), change.partitionSpec ?? null],
          );
          // Row lock (PostgreSQL): concurrent committers of this table wait here until we are done.
          await s.query(`UPDATE lake_tables SET current_snapshot = current_snapshot WHERE name = $1`, [change.table]);
          const [current] = await s.query<{ current_snapshot: number }>(`SELECT current_snapshot FROM lake_tables WHERE name = $1`, [change.table]);
          const base = current!.current_snapshot;
          if (change.expectedSnapshot !== undefined && change.expectedSnapshot !== base) {
            throw conflict(change.table, `expected to commit on snapshot ${change.expectedSnapshot} but the table is at ${base}`);
          }
          const [prev] = await s.query<{ committed_at: Date }>(`SELECT committed_at FROM snapshots WHERE table_name = $1 AND snapshot_id = $2`, [
            change.table,
            base,
          ]);
          const next = base + 1;
          // Snapshot times never go backwards, even if clocks of two writers disagree.
          const committedAt = new Date(Math.max(Date.now(), prev ? prev.committed_at.getTime() + 1 : 0));

          if (change.removeFiles === 'all') {
            await s.query(`UPDATE data_files SET removed_snapshot = $2 WHERE table_name = $1 AND removed_snapshot IS NULL`, [change.table, next]);
          } else if (change.removeFiles?.length) {
            for (const chunk of chunks(change.removeFiles, 200)) {
              const counted = await s.query<{ n: number }>(
                `SELECT count(*) AS n FROM data_files WHERE table_name = $1 AND removed_snapshot IS NULL AND path IN (${chunk.map((_, i) => `$${i + 2}`).join(', ')})`,
                [change.table, ...chunk],
              );
              if (Number(counted[0]!.n) !== chunk.length) {
                throw conflict(change.table, 'some files to replace were already removed by another commit');
              }
              await s.query(
                `UPDATE data_files SET removed_snapshot = $2 WHERE table_name = $1 AND removed_snapshot IS NULL AND path IN (${chunk.map((_, i) => `$${i + 3}`).join(', ')})`,
                [change.table, next, ...chunk],
              );
            }
          }
          for (const chunk of chunks(change.addFiles, 100)) {
            const values: SqlValue[] = [];
            const tuples = chunk.map((f) => {
              const at = values.length;
              values.push(change.table, f.path, f.rowCount, f.sizeBytes, f.partitionKey ?? null, next);
              return `(${[1, 2, 3, 4, 5, 6].map((k) => `$${at + k}`).join(', ')}, NULL)`;
            });
            await s.query(
              `INSERT INTO data_files (table_name, path, row_count, size_bytes, partition_key, added_snapshot, removed_snapshot) VALUES ${tuples.join(', ')}`,
              values,
            );
          }
          const [stats] = await s.query<{ files: number; rows_: number | null; bytes: number | null }>(
            `SELECT count(*) AS files, sum(row_count) AS rows_, sum(size_bytes) AS bytes
               FROM data_files WHERE table_name = $1 AND removed_snapshot IS NULL`,
            [change.table],
          );
          await s.query(
            `INSERT INTO snapshots (table_name, snapshot_id, parent_id, operation, committed_at, row_count, file_count, size_bytes, schema_json, run_id, summary_json, expired)
             VALUES ($1, $2, $3, $4, CAST($5 AS TIMESTAMPTZ), $6, $7, $8, $9, $10, $11, FALSE)`,
            [
              change.table,
              next,
              base,
              change.operation,
              committedAt.toISOString(),
              Number(stats!.rows_ ?? 0),
              Number(stats!.files),
              Number(stats!.bytes ?? 0),
              JSON.stringify(change.schema),
              request.runId ?? null,
              change.summary ? JSON.stringify(change.summary) : null,
            ],
          );
          await s.query(`UPDATE lake_tables SET current_snapshot = $2 WHERE name = $1`, [change.table, next]);
          snapshots[change.table] = next;
        }
        for (const part of request.parts ?? []) await part.write(s, { runId: request.runId, snapshots });
        return { snapshots };
      });
    } catch (err) {
      // A unique constraint a part's rows violated: a concurrent writer recorded them first, as that part reports it.
      const lost = this.driver.isUniqueViolation(err) ? request.parts?.find((p) => p.lostRace) : undefined;
      if (lost?.lostRace) throw lost.lostRace(err);
      throw err;
    }
  }

  /** Removes a table from the catalog (snapshots, files, ingestion records); returns the paths of all its files. */
  async dropTable(table: string): Promise<string[]> {
    return this.driver.transaction(async (s) => {
      await s.query(`UPDATE lake_tables SET current_snapshot = current_snapshot WHERE name = $1`, [table]);
      const files = await s.query<{ path: string }>(`SELECT path FROM data_files WHERE table_name = $1`, [table]);
      await s.query(`DELETE FROM data_files WHERE table_name = $1`, [table]);
      await s.query(`DELETE FROM snapshots WHERE table_name = $1`, [table]);
      await s.query(`DELETE FROM ingested_files WHERE table_name = $1`, [table]);
      await s.query(`DELETE FROM lake_tables WHERE name = $1`, [table]);
      return files.map((f) => f.path);
    });
  }

  // ---------------------------------------------------------------- vacuum support

  /**
   * Expires snapshots older than `keepFrom` (exclusive) and forgets files that only they referenced.
   * Returns the paths of the forgotten files, which the caller deletes from storage.
   */
  async expireSnapshots(table: string, keepFrom: number): Promise<string[]> {
    return this.driver.transaction(async (s) => {
      await s.query(`UPDATE lake_tables SET current_snapshot = current_snapshot WHERE name = $1`, [table]);
      await s.query(`UPDATE snapshots SET expired = TRUE WHERE table_name = $1 AND snapshot_id < $2 AND expired = FALSE`, [table, keepFrom]);
      const gone = await s.query<{ path: string }>(
        `SELECT path FROM data_files WHERE table_name = $1 AND removed_snapshot IS NOT NULL AND removed_snapshot <= $2`,
        [table, keepFrom],
      );
      await s.query(`DELETE FROM data_files WHERE table_name = $1 AND removed_snapshot IS NOT NULL AND removed_snapshot <= $2`, [table, keepFrom]);
      return gone.map((r) => r.path);
    });
  }

  /** What `expireSnapshots(table, keepFrom)` would forget, without changing anything (vacuum --dry-run). */
  async expirableFiles(table: string, keepFrom: number): Promise<string[]> {
    const rows = await this.driver.read((s) =>
      s.query<{ path: string }>(`SELECT path FROM data_files WHERE table_name = $1 AND removed_snapshot IS NOT NULL AND removed_snapshot <= $2`, [
        table,
        keepFrom,
      ]),
    );
    return rows.map((r) => r.path);
  }

  /**
   * Files a table gained from snapshot `since` to snapshot `until`, for incremental reads. `rewritten` is true when
   * files live at `since` were removed by `until` (an overwrite or compaction): then the gain is not a pure append.
   */
  async filesAddedSince(table: string, since: number, until: number): Promise<{ files: DataFile[]; rewritten: boolean }> {
    return this.driver.read(async (s) => {
      // Files of snapshot `until` that snapshot `since` did not have; bounded so that a commit landing meanwhile
      // is left for the next incremental read instead of being read twice.
      const files = await s.query(
        `SELECT * FROM data_files WHERE table_name = $1 AND added_snapshot > $2 AND added_snapshot <= $3
            AND (removed_snapshot IS NULL OR removed_snapshot > $3) ORDER BY added_snapshot, path`,
        [table, since, until],
      );
      const [removed] = await s.query<{ n: number }>(
        `SELECT count(*) AS n FROM data_files WHERE table_name = $1 AND added_snapshot <= $2 AND removed_snapshot IS NOT NULL AND removed_snapshot > $2 AND removed_snapshot <= $3`,
        [table, since, until],
      );
      const [expired] = await s.query<{ n: number }>(`SELECT count(*) AS n FROM snapshots WHERE table_name = $1 AND snapshot_id = $2 AND expired`, [
        table,
        since,
      ]);
      return { files: files.map(toDataFile), rewritten: Number(removed!.n) > 0 || Number(expired?.n ?? 0) > 0 };
    });
  }

  /** Every file path the catalog still knows, for orphan detection. */
  async knownFilePaths(): Promise<Set<string>> {
    const rows = await this.driver.read((s) => s.query<{ path: string }>(`SELECT path FROM data_files`));
    return new Set(rows.map((r) => r.path));
  }
}

function toTableInfo(r: Record<string, unknown>): TableInfo {
  return {
    name: String(r.name),
    layer: String(r.layer),
    table: String(r.table_name),
    createdAt: r.created_at as Date,
    partitionSpec: (r.partition_spec as string | null) ?? undefined,
    currentSnapshot: Number(r.current_snapshot),
    updatedAt: (r.committed_at as Date | null) ?? undefined,
    rowCount: Number(r.row_count ?? 0),
    fileCount: Number(r.file_count ?? 0),
    sizeBytes: Number(r.size_bytes ?? 0),
  };
}

function toSnapshot(r: Record<string, unknown>): SnapshotInfo {
  return {
    table: String(r.table_name),
    snapshotId: Number(r.snapshot_id),
    parentId: Number(r.parent_id),
    operation: String(r.operation),
    committedAt: r.committed_at as Date,
    rowCount: Number(r.row_count),
    fileCount: Number(r.file_count),
    sizeBytes: Number(r.size_bytes),
    schema: JSON.parse(String(r.schema_json)) as ColumnInfo[],
    runId: (r.run_id as string | null) ?? undefined,
    summary: r.summary_json ? (JSON.parse(String(r.summary_json)) as Record<string, unknown>) : undefined,
    expired: Boolean(r.expired),
  };
}

function toDataFile(r: Record<string, unknown>): DataFile {
  return {
    path: String(r.path),
    rowCount: Number(r.row_count),
    sizeBytes: Number(r.size_bytes),
    partitionKey: (r.partition_key as string | null) ?? undefined,
    addedSnapshot: Number(r.added_snapshot),
  };
}
