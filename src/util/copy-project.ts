import { cpSync } from 'node:fs';
import path from 'node:path';

/** What running a project leaves in its folder: its lake, its embedded log, installed packages. Never copied. */
const GENERATED = new Set(['lake', '.tributary', 'node_modules']);

/**
 * Copies a project folder (an example) without what running it produced: following a quick start inside
 * `examples/ventes-live` leaves its log and lake there, and a copy must start clean.
 */
export function copyProjectFiles(from: string, to: string): void {
  const root = path.resolve(from);
  cpSync(root, to, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(root, src);
      return rel === '' || !GENERATED.has(rel.split(path.sep)[0]!);
    },
  });
}
