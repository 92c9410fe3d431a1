import { constants, type Dirent } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { registerBuiltInStorage, type Storage, type StoredObject } from './storage.js';

/** Storage on a local (or mounted) file system, rooted at the lake folder. */
export class LocalStorage implements Storage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  writePath(key: string): string {
    return path.join(this.root, key);
  }

  async prepareWrite(target: string): Promise<void> {
    // A partitioned write names a folder DuckDB fills; a single file needs its parent.
    await mkdir(target.endsWith('.parquet') ? path.dirname(target) : target, { recursive: true });
  }

  async prepareRead(): Promise<void> {
    // Files on disk are read where they are.
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const info = await stat(this.readPath(key));
      return { key, sizeBytes: info.size, modifiedAt: info.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  keyOf(writtenPath: string): string {
    return path.relative(this.root, path.resolve(writtenPath)).split(path.sep).join('/');
  }

  async finalize(keys: readonly string[]): Promise<void> {
    // fsync files, then their folders, so a committed snapshot never names a file lost to a power cut.
    const dirs = new Set<string>();
    for (const key of keys) {
      const file = this.readPath(key);
      await fsync(file);
      dirs.add(path.dirname(file));
    }
    for (const dir of dirs) await fsync(dir).catch(() => undefined);
  }

  readPath(key: string): string {
    return path.join(this.root, key);
  }

  async putFile(localPath: string, key: string): Promise<void> {
    const target = this.writePath(key);
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(localPath, target, constants.COPYFILE_FICLONE);
    await this.finalize([key]);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.writePath(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, target);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.readPath(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const start = path.join(this.root, prefix);
    const walk = async function* (dir: string, self: LocalStorage): AsyncGenerator<StoredObject> {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        // Nothing under this prefix: it does not exist, or it names a file (a listing of a file's key is empty).
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw err;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full, self);
        else if (entry.isFile()) {
          const info = await stat(full);
          yield { key: self.keyOf(full), sizeBytes: info.size, modifiedAt: info.mtime };
        }
      }
    };
    yield* walk(start, this);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) await rm(this.readPath(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.readPath(key)).then(
      () => true,
      () => false,
    );
  }
}

async function fsync(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `file:///abs/path`, `file:rel/path` or a bare path. */
export function localPathOf(location: string): string {
  if (location.startsWith('file://')) return new URL(location).pathname;
  if (location.startsWith('file:')) return location.slice('file:'.length);
  return location;
}

registerBuiltInStorage('file', async (location) => {
  const root = path.resolve(localPathOf(location));
  await mkdir(root, { recursive: true });
  return new LocalStorage(root);
});
