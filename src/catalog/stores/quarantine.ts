import { TributaryError } from '../../errors.js';
import type { CatalogDriver, SqlValue } from '../driver.js';
import type { CommitPart, QuarantineEntry, QuarantineInput } from '../types.js';

/** Files set aside with their reason (and a preserved copy), until retried, superseded or resolved. */
export class Quarantine {
  constructor(private readonly driver: CatalogDriver) {}

  /** Records a quarantined file; if the same content of the same source is already open there, returns that entry. */
  async add(input: QuarantineInput): Promise<QuarantineEntry> {
    return this.driver.transaction(async (s) => {
      // Two processes refusing the same file at once must record it once.
      await this.driver.lock(s, `quarantine:${input.source}:${input.fileHash}`);
      const existing = await s.query(`SELECT * FROM quarantine WHERE source = $1 AND file_hash = $2 AND status = 'open'`, [input.source, input.fileHash]);
      if (existing[0]) return toQuarantine(existing[0]);
      const [row] = await s.query<{ id: number }>(`SELECT nextval('quarantine_ids') AS id`);
      await s.query(
        `INSERT INTO quarantine (id, source, path, file_hash, stored_path, target_table, reason_code, reason, details_json, quarantined_at, run_id, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CAST($10 AS TIMESTAMPTZ), $11, 'open')`,
        [
          row!.id,
          input.source,
          input.path,
          input.fileHash,
          input.storedPath ?? null,
          input.table,
          input.reasonCode,
          input.reason,
          input.details === undefined ? null : JSON.stringify(input.details),
          new Date().toISOString(),
          input.runId ?? null,
        ],
      );
      const [created] = await s.query(`SELECT * FROM quarantine WHERE id = $1`, [row!.id]);
      return toQuarantine(created!);
    });
  }

  async list(options: { all?: boolean; source?: string } = {}): Promise<QuarantineEntry[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (!options.all) where.push(`status = 'open'`);
    if (options.source !== undefined) {
      params.push(options.source);
      where.push(`source = $${params.length}`);
    }
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM quarantine ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`, params));
    return rows.map(toQuarantine);
  }

  async get(id: number): Promise<QuarantineEntry> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM quarantine WHERE id = $1`, [id]));
    if (!rows[0]) throw new TributaryError('QUARANTINE_NOT_FOUND', `quarantine entry ${id} does not exist`, { hint: 'see `tributary quarantine ls --all`' });
    return toQuarantine(rows[0]);
  }

  /** Open quarantine entries of a source, keyed by file hash: such files are not retried on every run. */
  async openHashes(source: string): Promise<Map<string, number>> {
    const rows = await this.driver.read((s) =>
      s.query<{ id: number; file_hash: string }>(`SELECT id, file_hash FROM quarantine WHERE source = $1 AND status = 'open'`, [source]),
    );
    return new Map(rows.map((r) => [r.file_hash, r.id]));
  }

  /** A part of a commit: the entry resolved by the commit that ingests its file. */
  resolveOnCommit(id: number): CommitPart {
    return {
      write: async (s) => {
        await s.query(`UPDATE quarantine SET status = 'resolved', resolved_at = CAST($2 AS TIMESTAMPTZ) WHERE id = $1`, [id, new Date().toISOString()]);
      },
    };
  }

  /** Marks an open quarantine entry resolved (its content turned out to be ingested already). */
  async resolve(id: number): Promise<void> {
    await this.driver.transaction((s) =>
      s.query(`UPDATE quarantine SET status = 'resolved', resolved_at = CAST($2 AS TIMESTAMPTZ) WHERE id = $1 AND status = 'open'`, [
        id,
        new Date().toISOString(),
      ]),
    );
  }
}

function toQuarantine(r: Record<string, unknown>): QuarantineEntry {
  return {
    id: Number(r.id),
    source: String(r.source),
    path: String(r.path),
    fileHash: String(r.file_hash),
    storedPath: (r.stored_path as string | null) ?? undefined,
    table: String(r.target_table),
    reasonCode: String(r.reason_code),
    reason: String(r.reason),
    details: r.details_json ? JSON.parse(String(r.details_json)) : undefined,
    quarantinedAt: r.quarantined_at as Date,
    runId: (r.run_id as string | null) ?? undefined,
    status: String(r.status) as QuarantineEntry['status'],
    resolvedAt: (r.resolved_at as Date | null) ?? undefined,
  };
}
