import { TributaryError } from '../errors.js';
import { Registry } from '../util/registry.js';

/**
 * Where data files live. Objects are immutable and addressed by a key relative to the lake root
 * (`bronze/sales/data/…/part_….parquet`). The lake opens its storage from the configured location's scheme
 * (`openStorage`): a bare path or `file:` is local disk; other schemes (`s3://`) are registered adapters.
 *
 * DuckDB reads and writes the bytes itself, so the interface hands out local paths DuckDB can use: a write goes to
 * `writePath(key)` (after `prepareWrite`) and becomes durable with `finalize(keys)` (fsync on disk; an upload for an
 * object store); a read of `readPath(key)` comes after `prepareRead(keys)` (nothing on disk; a cached copy for an
 * object store). Staging and caching are the adapter's business, never the caller's.
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
  /** Makes `writePath(…)` (a file, or the folder of a partitioned write) writable by DuckDB. */
  prepareWrite(path: string): Promise<void>;
  /** Makes `readPath(key)` of these objects readable by DuckDB. */
  prepareRead(keys: readonly string[]): Promise<void>;
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
  /** An object's size and time; undefined when it does not exist. */
  stat(key: string): Promise<StoredObject | undefined>;
}

/**
 * Opens a storage at a location (the lake's path or URL); `localDir` is the project's own folder for scratch files,
 * `options` the adapter's own settings (`lake.storage`), which it checks, naming the setting.
 */
export type StorageOpener = (location: string, options: { localDir: string; options?: unknown }) => Promise<Storage>;

const openers = new Registry<StorageOpener>('storage scheme');

/** Makes a URL scheme (`s3`, `gs`…) available as a lake location. Registering again replaces; `file` stays. */
export function registerStorage(scheme: string, open: StorageOpener): void {
  openers.register(scheme, open);
}

/** The built-in schemes (storage/index.ts). */
export function registerBuiltInStorage(scheme: string, open: StorageOpener): void {
  openers.register(scheme, open, { builtIn: true });
}

export function unregisterStorage(scheme: string): void {
  openers.unregister(scheme);
}

/** The scheme of a location (`s3://b/p` → `s3`), or `file` for a path. */
export function schemeOf(location: string): string {
  const match = /^([a-z][a-z0-9+.-]+):\/\//i.exec(location);
  return match ? match[1]!.toLowerCase() : 'file';
}

export async function openStorage(location: string, options: { localDir: string; options?: unknown }): Promise<Storage> {
  const scheme = schemeOf(location);
  const open = openers.get(scheme);
  if (!open) {
    throw new TributaryError('CONFIG_INVALID', `lake.path: no storage for "${scheme}://" locations (${location})`, {
      hint: `registered: ${openers
        .names()
        .map((s) => `${s}:`)
        .join(', ')}`,
    });
  }
  return open(location, options);
}
