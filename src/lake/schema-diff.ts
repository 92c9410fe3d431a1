import type { ColumnInfo } from '../catalog/types.js';

/**
 * How a table's schema changed from one snapshot to the next, in words: `+email VARCHAR` (added), `-phone` (removed),
 * `id BIGINT → VARCHAR` (type changed). Empty when the columns and their types are the same.
 */
export function schemaChanges(before: readonly ColumnInfo[] | undefined, after: readonly ColumnInfo[]): string[] {
  if (!before) return [];
  const old = new Map(before.map((c) => [c.name, c.type]));
  const now = new Map(after.map((c) => [c.name, c.type]));
  const changes: string[] = [];
  for (const c of after) {
    const was = old.get(c.name);
    if (was === undefined) changes.push(`+${c.name} ${c.type}`);
    else if (was !== c.type) changes.push(`${c.name} ${was} → ${c.type}`);
  }
  for (const c of before) if (!now.has(c.name)) changes.push(`-${c.name}`);
  return changes;
}

/**
 * The columns a table has at each snapshot, oldest first. An append's recorded schema is that of the files it added:
 * the table's columns are those of its parent plus the new ones (files are read by name), a column the batch holds
 * with another type showing that type. Any other operation records the whole table's schema.
 */
export function effectiveSchemas<S extends { snapshotId: number; parentId: number; operation: string; schema: ColumnInfo[] }>(
  snapshots: readonly S[],
): Map<number, ColumnInfo[]> {
  const out = new Map<number, ColumnInfo[]>();
  for (const s of [...snapshots].sort((a, b) => a.snapshotId - b.snapshotId)) {
    const parent = out.get(s.parentId);
    if (s.operation !== 'append' || !parent) {
      out.set(s.snapshotId, s.schema);
      continue;
    }
    const batch = new Map(s.schema.map((c) => [c.name, c]));
    const merged = parent.map((c) => batch.get(c.name) ?? c);
    for (const c of s.schema) if (!parent.some((p) => p.name === c.name)) merged.push(c);
    out.set(s.snapshotId, merged);
  }
  return out;
}
