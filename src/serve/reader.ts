import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { Engine } from '../engine/engine.js';

export type JsonRow = Record<string, string | number | boolean | null | object>;

const EXACT_NUMBER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|DECIMAL)/i;

/**
 * Read-only queries for the API over a few connections to the engine's database (they share its views), so that
 * requests run in parallel. Rows come out JSON-ready: dates as 'YYYY-MM-DD', timestamps as text, integers and
 * decimals as numbers when they fit exactly in a double.
 */
/** True when the decimal text survives a round trip through a double (otherwise it stays text: no silent rounding). */
function exactly(text: string): boolean {
  const n = Number(text);
  if (!Number.isFinite(n)) return false;
  const normal = (s: string) => s.replace(/^(-?)0+(?=\d)/, '$1').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return normal(String(n)) === normal(text);
}

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
    const run = slot.busy.catch(() => undefined).then(async () => {
      const reader = await slot.conn.runAndReadAll(sql, params as DuckDBValue[]);
      const types = new Map(reader.columnNames().map((n, i) => [n, reader.columnTypes()[i]!.toString()]));
      return reader.getRowObjectsJson().map((row) => {
        const out: JsonRow = {};
        for (const [k, v] of Object.entries(row)) {
          out[k] = typeof v === 'string' && EXACT_NUMBER.test(types.get(k) ?? '') && exactly(v) ? Number(v) : (v as JsonRow[string]);
        }
        return out;
      });
    });
    slot.busy = run;
    return run;
  }

  close(): void {
    for (const { conn } of this.connections) conn.closeSync();
  }
}
