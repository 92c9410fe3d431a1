import { conflict } from '../conflict.js';
import type { CommitPart, StreamCheckpoint, StreamCheckpointInput } from '../types.js';
import type { CatalogDriver, CatalogSession, SqlValue } from '../driver.js';

/** Streams' checkpoints (offsets, watermark and state, saved by `Catalog.commit` with each batch) and DLQ replays. */
export class StreamStates {
  constructor(private readonly driver: CatalogDriver) {}

  /**
   * A part of a commit: the stream's new position and state, saved with the output it produced (exactly-once);
   * refused (COMMIT_CONFLICT) when another worker of the stream moved the checkpoint first.
   */
  advance(input: StreamCheckpointInput): CommitPart {
    return {
      write: (s) => saveCheckpoint(s, input),
      lostRace: () => conflict(`stream ${input.stream}`, 'another worker of this stream committed its first batch at the same time'),
    };
  }

  async checkpoint(stream: string, run = 'live'): Promise<StreamCheckpoint | undefined> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM stream_checkpoints WHERE stream = $1 AND run = $2`, [stream, run]));
    return rows[0] ? toCheckpoint(rows[0]) : undefined;
  }

  async checkpoints(): Promise<StreamCheckpoint[]> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM stream_checkpoints ORDER BY stream, run`));
    return rows.map(toCheckpoint);
  }

  async deleteCheckpoint(stream: string, run: string): Promise<void> {
    await this.driver.transaction((s) => s.query(`DELETE FROM stream_checkpoints WHERE stream = $1 AND run = $2`, [stream, run]));
  }

  /** Records dead letters as re-injected into their topic (again: the latest time wins). */
  async recordDlqReplays(stream: string, topic: string, entries: readonly { partition: number; offset: number; edited: boolean }[]): Promise<void> {
    await this.driver.transaction(async (s) => {
      for (const e of entries) {
        await s.query(
          `INSERT INTO dlq_replays (stream, topic, source_partition, source_offset, replayed_at, edited) VALUES ($1, $2, $3, $4, CAST($5 AS TIMESTAMPTZ), $6)
           ON CONFLICT (stream, topic, source_partition, source_offset) DO UPDATE SET replayed_at = EXCLUDED.replayed_at, edited = EXCLUDED.edited`,
          [stream, topic, e.partition, e.offset, new Date().toISOString(), e.edited],
        );
      }
    });
  }

  async dlqReplays(stream: string): Promise<Map<string, { replayedAt: Date; edited: boolean }>> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM dlq_replays WHERE stream = $1`, [stream]));
    return new Map(
      rows.map((r) => [
        `${String(r.topic)}/${Number(r.source_partition)}/${Number(r.source_offset)}`,
        { replayedAt: r.replayed_at as Date, edited: Boolean(r.edited) },
      ]),
    );
  }
}

async function saveCheckpoint(s: CatalogSession, c: StreamCheckpointInput): Promise<void> {
  const values: SqlValue[] = [
    c.stream,
    c.run,
    c.topic,
    JSON.stringify(c.offsets),
    c.watermark === null ? null : new Date(c.watermark).toISOString(),
    c.state,
    new Date().toISOString(),
  ];
  if (c.expectedSeq === 0) {
    // A concurrent first commit of the same stream violates the primary key: reported as a conflict.
    await s.query(
      `INSERT INTO stream_checkpoints (stream, run, seq, topic, offsets_json, watermark, state_json, committed_at)
       VALUES ($1, $2, 1, $3, $4, CAST($5 AS TIMESTAMPTZ), $6, CAST($7 AS TIMESTAMPTZ))`,
      values,
    );
    return;
  }
  const updated = await s.query(
    `UPDATE stream_checkpoints SET seq = seq + 1, topic = $3, offsets_json = $4, watermark = CAST($5 AS TIMESTAMPTZ), state_json = $6, committed_at = CAST($7 AS TIMESTAMPTZ)
      WHERE stream = $1 AND run = $2 AND seq = $8 RETURNING seq`,
    [...values, c.expectedSeq],
  );
  if (updated.length !== 1) throw conflict(`stream ${c.stream}`, `its checkpoint moved past ${c.expectedSeq}: another worker of this stream is running`);
}

function toCheckpoint(r: Record<string, unknown>): StreamCheckpoint {
  return {
    stream: String(r.stream),
    run: String(r.run),
    seq: Number(r.seq),
    topic: String(r.topic),
    offsets: JSON.parse(String(r.offsets_json)) as Record<string, number>,
    watermark: (r.watermark as Date | null) ?? undefined,
    state: String(r.state_json),
    committedAt: r.committed_at as Date,
  };
}
