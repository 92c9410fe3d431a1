import type { Lake } from '../../src/lake/lake.js';

/** A sales event as the ventes-live example expects it. */
export interface Sale {
  id: string;
  event_time: string;
  pays: string;
  montant: number;
}

/** Per 1-minute window and country: count and sum (cents, to compare sums exactly). */
export function tumblingTruth(sales: readonly Sale[], sizeMs = 60_000, advanceMs = sizeMs): Map<string, { n: number; cents: number }> {
  const truth = new Map<string, { n: number; cents: number }>();
  for (const s of sales) {
    const t = Date.parse(s.event_time);
    for (let start = Math.floor(t / advanceMs) * advanceMs; start + sizeMs > t; start -= advanceMs) {
      const key = `${new Date(start).toISOString()}|${s.pays}`;
      const cell = truth.get(key) ?? { n: 0, cents: 0 };
      cell.n++;
      cell.cents += Math.round(s.montant * 100);
      truth.set(key, cell);
    }
  }
  return truth;
}

/** The same shape, read from a window table of the lake (optionally only the rows matching `where`). */
export async function windowTable(lake: Lake, table: string, where = 'true'): Promise<Map<string, { n: number; cents: number }>> {
  await lake.mount([table]);
  const rows = await lake.engine.all(`SELECT window_start, pays, nb_transactions AS n, total_ventes AS total FROM ${table} WHERE ${where}`);
  const out = new Map<string, { n: number; cents: number }>();
  for (const r of rows) {
    const key = `${(r.window_start as Date).toISOString()}|${String(r.pays)}`;
    if (out.has(key)) throw new Error(`${table}: window ${key} appears twice`);
    out.set(key, { n: Number(r.n), cents: Math.round(Number(r.total) * 100) });
  }
  return out;
}
