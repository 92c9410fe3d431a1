import { TributaryError } from '../../errors.js';
import { conflict } from '../conflict.js';
import type { CatalogDriver, CatalogSession } from '../driver.js';
import type { CommitPart } from '../types.js';

/** A source's position (a cursor, a replication position, a page token) as its connector committed it. */
export interface SourceState {
  source: string;
  /** Incremented by every commit; a commit names the version it read, so two runs cannot both move from it. */
  version: number;
  state: unknown;
  committedAt: Date;
}

/** The state a commit saves, with the version it was computed from (0: the source had none). */
export interface SourceStateInput {
  source: string;
  expectedVersion: number;
  state: unknown;
}

/** Source states: read by connectors, written inside the commit that lands the rows they describe. */
export class SourceStates {
  constructor(private readonly driver: CatalogDriver) {}

  async get(source: string): Promise<SourceState | undefined> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM source_state WHERE source = $1`, [source]));
    const r = rows[0];
    return r
      ? { source: String(r.source), version: Number(r.version), state: JSON.parse(String(r.state_json)), committedAt: r.committed_at as Date }
      : undefined;
  }

  /**
   * A part of a commit: the source's new state, saved with the rows it covers; refused (COMMIT_CONFLICT) when
   * another run moved it first, or committed its first batch at the same time.
   */
  advance(input: SourceStateInput): CommitPart {
    return {
      write: (s) => saveSourceState(s, input),
      lostRace: () => conflict(`source ${input.source}`, 'another run of this source committed its first batch at the same time'),
    };
  }

  /** Forgets a source's state: its next ingestion starts from the beginning. */
  async reset(source: string): Promise<void> {
    await this.driver.transaction((s) => s.query(`DELETE FROM source_state WHERE source = $1`, [source]));
  }
}

async function saveSourceState(s: CatalogSession, input: SourceStateInput): Promise<void> {
  const now = new Date().toISOString();
  const json = JSON.stringify(input.state);
  if (input.expectedVersion === 0) {
    const existing = await s.query(`SELECT version FROM source_state WHERE source = $1`, [input.source]);
    if (existing.length) throw moved(input);
    await s.query(`INSERT INTO source_state (source, version, state_json, committed_at) VALUES ($1, 1, $2, CAST($3 AS TIMESTAMPTZ))`, [
      input.source,
      json,
      now,
    ]);
    return;
  }
  const updated = await s.query(
    `UPDATE source_state SET version = version + 1, state_json = $2, committed_at = CAST($3 AS TIMESTAMPTZ) WHERE source = $1 AND version = $4 RETURNING version`,
    [input.source, json, now, input.expectedVersion],
  );
  if (updated.length !== 1) throw moved(input);
}

function moved(input: SourceStateInput): TributaryError {
  return new TributaryError('COMMIT_CONFLICT', `commit of source ${input.source} lost a race: its state moved past version ${input.expectedVersion}`, {
    hint: 'another run of this source committed first; run it again to read from where that run stopped',
  });
}
