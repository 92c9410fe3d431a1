import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.js';
import { produceFile } from '../src/produce/produce.js';
import { tempDir } from './support/helpers.js';

// `tributary produce --from <file>`: what a file holds decides how it is read.
async function produced(content: string, options: { keyField?: string } = {}) {
  const dir = tempDir('trib-produce-');
  const file = path.join(dir, 'records.json');
  writeFileSync(file, content);
  const log = new EmbeddedLog(path.join(dir, 'log'));
  await log.createTopic('t', 1);
  const report = await produceFile(log, 't', file, options);
  const reader = await log.reader('t', new Map([[0, 0]]));
  const records = await reader.poll({ maxRecords: 100, maxWaitMs: 10 });
  await reader.close();
  await log.close();
  return { report, values: records.map((r) => r.value!.toString()), keys: records.map((r) => r.key?.toString() ?? null) };
}

describe('produce --from a file', () => {
  it('reads an indented JSON array as its records, one per element, keeping big integers exact', async () => {
    const { report, values, keys } = await produced(
      '[\n  {\n    "id_facture": "F-1",\n    "montant_ttc": 120.5,\n    "ean": 1234567890123456789\n  },\n  {"id_facture": "F-2", "nested": {"a": [1, 2]}},\n  {"id_facture": "F-3"}\n]\n',
      { keyField: 'id_facture' },
    );
    expect(report.sent).toBe(3);
    // Each element on one line, its text as written (a line break between tokens becomes a space): exact numbers.
    expect(values.every((v) => !/[\r\n]/.test(v))).toBe(true);
    expect(values.map((v) => JSON.parse(v).id_facture)).toEqual(['F-1', 'F-2', 'F-3']);
    expect(values[0]).toMatch(/"ean": 1234567890123456789\s*\}$/);
    expect(values.slice(1)).toEqual(['{"id_facture": "F-2", "nested": {"a": [1, 2]}}', '{"id_facture": "F-3"}']);
    expect(keys).toEqual(['F-1', 'F-2', 'F-3']);
  });

  it('sends NDJSON lines as they are (a poison pill included), and refuses pretty-printed JSON that is not an array', async () => {
    const { values } = await produced('{"broken":\n{"a": 1}\nnot json at all\n\n{"a": 2}\n');
    expect(values).toEqual(['{"broken":', '{"a": 1}', 'not json at all', '{"a": 2}']);
    // Keys beyond 2^53 stay distinct.
    const big = await produced('{"id": 12345678901234567890}\n{"id": 12345678901234567891}\n', { keyField: 'id' });
    expect(big.keys).toEqual(['12345678901234567890', '12345678901234567891']);
    await expect(produced('{\n  "a": 1\n}\n')).rejects.toThrow(
      /records\.json: line 1 is not a record on its own \("\{"\): the file looks like pretty-printed JSON/,
    );
    await expect(produced('[{"a": 1}, {"a": ')).rejects.toThrow(/records\.json: not a JSON array of records/);
  });
});
