import { chunks } from '../../util/chunks.js';
import { TributaryError } from '../../errors.js';
import type { CatalogDriver, SqlValue } from '../driver.js';
import type { CommitPart, IngestRecordInput, IngestedFile } from '../types.js';

/**
 * Ingestion records: which content (by hash) of which source landed in which snapshot. They are the file source's
 * state, written in the commit that lands the rows (`record`), so a file is ingested exactly once.
 */
export class Ingestion {
  constructor(private readonly driver: CatalogDriver) {}

  /** The content hashes a source has ingested. */
  async hashes(source: string): Promise<Set<string>> {
    const rows = await this.driver.read((s) => s.query<{ file_hash: string }>(`SELECT file_hash FROM ingested_files WHERE source = $1`, [source]));
    return new Set(rows.map((r) => r.file_hash));
  }

  async files(source?: string): Promise<IngestedFile[]> {
    const rows = await this.driver.read((s) =>
      source === undefined
        ? s.query(`SELECT * FROM ingested_files ORDER BY ingested_at, path`)
        : s.query(`SELECT * FROM ingested_files WHERE source = $1 ORDER BY ingested_at, path`, [source]),
    );
    return rows.map(toIngestedFile);
  }

  /** Forgets the ingestion of files that landed in `table` after `snapshot` (a rollback took their rows out). */
  async forgetAfter(table: string, snapshot: number): Promise<number> {
    return this.driver.transaction(async (s) => {
      const rows = await s.query<{ n: number }>(`SELECT count(*) AS n FROM ingested_files WHERE table_name = $1 AND snapshot_id > $2`, [table, snapshot]);
      await s.query(`DELETE FROM ingested_files WHERE table_name = $1 AND snapshot_id > $2`, [table, snapshot]);
      return Number(rows[0]?.n ?? 0);
    });
  }

  /**
   * A part of a commit: records of the files it lands (each naming a table the commit changes), and the records
   * it forgets (previous versions of files whose rows it replaces). A good version of a quarantined file (same
   * source and path) supersedes its quarantine entry. Content another process recorded first refuses the commit
   * whole (ALREADY_INGESTED).
   */
  record(records: readonly IngestRecordInput[], forget: readonly { source: string; fileHash: string }[] = []): CommitPart {
    return {
      async write(s, commit) {
        for (const f of forget) await s.query(`DELETE FROM ingested_files WHERE source = $1 AND file_hash = $2`, [f.source, f.fileHash]);
        for (const record of records) {
          if (commit.snapshots[record.table] === undefined)
            throw new Error(`ingestion record for ${record.path} names table ${record.table}, which this commit does not change`);
        }
        // Multi-row statements: a batch may carry hundreds of files, and per-statement cost adds up.
        for (const chunk of chunks(records, 100)) {
          const values: SqlValue[] = [];
          const tuples = chunk.map((r) => {
            const at = values.length;
            values.push(
              r.source,
              r.fileHash,
              r.path,
              r.sizeBytes,
              r.table,
              commit.snapshots[r.table]!,
              r.batchId,
              commit.runId ?? null,
              r.ingestedAt.toISOString(),
              r.rowCount,
              r.rejectedRows,
            );
            return `(${Array.from({ length: 11 }, (_, k) => (k === 8 ? `CAST($${at + k + 1} AS TIMESTAMPTZ)` : `$${at + k + 1}`)).join(', ')})`;
          });
          await s.query(
            `INSERT INTO ingested_files (source, file_hash, path, size_bytes, table_name, snapshot_id, batch_id, run_id, ingested_at, row_count, rejected_rows) VALUES ${tuples.join(', ')}`,
            values,
          );
          const keys = chunk.map((r) => `${r.source}\u001f${r.path}`);
          await s.query(
            `UPDATE quarantine SET status = 'superseded', resolved_at = CAST($1 AS TIMESTAMPTZ)
              WHERE status = 'open' AND source || chr(31) || path IN (${keys.map((_, i) => `$${i + 2}`).join(', ')})`,
            [new Date().toISOString(), ...keys],
          );
        }
      },
      lostRace: records.length
        ? (err) =>
            new TributaryError('ALREADY_INGESTED', 'some of these files were ingested concurrently by another process; nothing was committed', { cause: err })
        : undefined,
    };
  }
}

function toIngestedFile(r: Record<string, unknown>): IngestedFile {
  return {
    source: String(r.source),
    fileHash: String(r.file_hash),
    path: String(r.path),
    sizeBytes: Number(r.size_bytes),
    table: String(r.table_name),
    snapshotId: Number(r.snapshot_id),
    batchId: String(r.batch_id),
    runId: (r.run_id as string | null) ?? undefined,
    ingestedAt: r.ingested_at as Date,
    rowCount: Number(r.row_count),
    rejectedRows: Number(r.rejected_rows),
  };
}
