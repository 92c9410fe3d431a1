import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { exactNumbers, type Engine } from '../engine/engine.js';

export type JsonRow = Record<string, string | number | boolean | null | object>;

/**
 * Read-only queries for the API over a few connections to the engine's database (they share its views), so that
 * requests run in parallel. Rows come out JSON-ready: dates as 'YYYY-MM-DD', timestamps as text, integers and
 * decimals as numbers when they fit exactly in a double.
 */
export class Reader {
  private constructor(private readonly connections: { conn: DuckDBConnection; busy: Promise<unknown> }[]) {}

  static async open(engine: Engine, size = 4): Promise<Reader> {
    const conns = [];
    for (let i = 0; i < size; i++) conns.push({ conn: await engine.connect(), busy: Promise.resolve() as Promise<unknown> });
    return new Reader(conns);
  }

  private next = 0;

  async rows(sql: string, params: readonly unknown[] = []): Promise<JsonRow[]> {
    const slot = this.connections[this.next++ % this.connections.length]!;
    const run = slot.busy
      .catch(() => undefined)
      .then(async () => {
        const reader = await slot.conn.runAndReadAll(sql, params as DuckDBValue[]);
        const columns = reader.columnNames().map((name, i) => ({ name, type: reader.columnTypes()[i]!.toString() }));
        return reader.getRowObjectsJson().map((row) => exactNumbers(row, columns) as JsonRow);
      });
    slot.busy = run;
    return run;
  }

  close(): void {
    for (const { conn } of this.connections) conn.closeSync();
  }
}
