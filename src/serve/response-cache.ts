/**
 * Responses keyed by the snapshot they were read from and the request URL. A snapshot never changes, so a cached
 * response is exactly what the query would return; a new snapshot changes the key. Bounded by weight (rows held,
 * not entries: a thousand-row page weighs a thousand), least recently used first out.
 */
export class ResponseCache {
  private readonly entries = new Map<string, { value: unknown; weight: number }>();
  private weight = 0;

  constructor(private readonly maxWeight = 200_000) {}

  async get<T extends { rows?: unknown[] }>(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // refresh its place in the LRU order
      this.entries.set(key, hit);
      return hit.value as T;
    }
    const value = await compute();
    const weight = 1 + (value.rows?.length ?? 0);
    if (weight > this.maxWeight / 10) return value; // too big to be worth holding
    this.entries.set(key, { value, weight });
    this.weight += weight;
    while (this.weight > this.maxWeight) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.weight -= entry.weight;
    }
    return value;
  }
}
