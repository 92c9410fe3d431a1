import { describe, expect, it } from 'vitest';
import { effectiveSchemas, schemaChanges } from '../src/lake/schema-diff.js';

const col = (name: string, type: string) => ({ name, type });

describe('schema changes between snapshots (lake history)', () => {
  it('names added, removed and retyped columns', () => {
    expect(schemaChanges([col('id', 'BIGINT'), col('phone', 'VARCHAR')], [col('id', 'VARCHAR'), col('email', 'VARCHAR')])).toEqual([
      'id BIGINT → VARCHAR',
      '+email VARCHAR',
      '-phone',
    ]);
    expect(schemaChanges(undefined, [col('id', 'BIGINT')])).toEqual([]);
  });

  it('reads an append as adding to its parent’s columns, an overwrite as the whole table', () => {
    const snapshots = [
      { snapshotId: 1, parentId: 0, operation: 'append', schema: [col('id', 'BIGINT'), col('country', 'VARCHAR')] },
      // A file without `country`: the table still has it (files are read by name).
      { snapshotId: 2, parentId: 1, operation: 'append', schema: [col('id', 'BIGINT')] },
      { snapshotId: 3, parentId: 2, operation: 'append', schema: [col('id', 'BIGINT'), col('channel', 'VARCHAR')] },
      { snapshotId: 4, parentId: 3, operation: 'overwrite', schema: [col('id', 'BIGINT')] },
    ];
    const columns = effectiveSchemas(snapshots);
    expect(columns.get(2)!.map((c) => c.name)).toEqual(['id', 'country']);
    expect(schemaChanges(columns.get(2), columns.get(3)!)).toEqual(['+channel VARCHAR']);
    expect(schemaChanges(columns.get(3), columns.get(4)!)).toEqual(['-country', '-channel']);
  });
});
