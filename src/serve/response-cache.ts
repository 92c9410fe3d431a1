/**
 * Responses keyed by the snapshot they were read from and the request URL. A snapshot never changes, so a cached
 * response is exactly what the query would return; a new snapshot changes the key. Least recently used entries go
 * first once `capacity` is reached.
 */
export class ResponseCache {
  private readonly entries = new Map<string, unknown>();

  constructor(private readonly capacity = 2000) {}

  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.entries.has(key)) {
      const hit = this.entries.get(key) as T;
      this.entries.delete(key); // refresh its place in the LRU order
      this.entries.set(key, hit);
      return hit;
    }
    const value = await compute();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
