/**
 * Where data files live. Objects are immutable and addressed by a key relative to the lake root
 * (`bronze/sales/data/…/part_….parquet`). Local disk today; an S3-compatible backend plugs in here later.
 *
 * DuckDB reads and writes the bytes itself, so the interface hands out paths DuckDB can use: a write goes to
 * `writePath(key)` and becomes durable with `finalize(keys)` (fsync here; an upload for object stores).
 */
export interface StoredObject {
  key: string;
  sizeBytes: number;
  modifiedAt: Date;
}

export interface Storage {
  /** For messages: the root path or URL. */
  readonly root: string;
  /** Where DuckDB should write the object `key` (may be a staging location). */
  writePath(key: string): string;
  /** Maps a path DuckDB reported writing back to its key. */
  keyOf(writtenPath: string): string;
  /** Makes written objects durable before they are committed to the catalog. */
  finalize(keys: readonly string[]): Promise<void>;
  /** A location DuckDB can read the object from. */
  readPath(key: string): string;
  /** Copies a local file in (used to preserve quarantined inputs). */
  putFile(localPath: string, key: string): Promise<void>;
  /** Writes a small object whole (markers, metadata), replacing it if it exists. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Reads a small object whole; undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  list(prefix: string): AsyncIterable<StoredObject>;
  delete(keys: readonly string[]): Promise<void>;
  exists(key: string): Promise<boolean>;
}
