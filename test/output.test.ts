import { describe, expect, it } from 'vitest';
import { cli } from './support/helpers.js';
import { openTestLake } from './support/project.js';

describe('tributary sql prints what the data holds', () => {
  it('dates as dates, decimals exactly, blobs as text, in table, CSV and JSON', async () => {
    const { dir, write } = await openTestLake();
    write('tributary.config.ts', 'export default {};\n');
    const query = `SELECT DATE '2024-01-01' AS d, CAST(816740.17 AS DECIMAL(38,2)) AS ca, CAST(12.50 AS DECIMAL(10,2)) AS m,
                          '\\x00\\x01GIF'::BLOB AS b, 123456789012345678901234::HUGEINT AS h, 3::BIGINT AS n`;
    const table = await cli(['sql', query, '--project', dir]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[2]).toMatch(/^2024-01-01 +816740\.17 +12\.50 +\\x00\\x01GIF +123456789012345678901234 +3$/);
    const csv = await cli(['sql', query, '--format', 'csv', '--project', dir]);
    expect(csv.stdout.trim().split('\n')[1]).toBe('2024-01-01,816740.17,12.50,\\x00\\x01GIF,123456789012345678901234,3');
    const json = JSON.parse((await cli(['sql', query, '--json', '--project', dir])).stdout);
    // Numbers where a double holds them exactly; text where it would not (no silent rounding).
    expect(json).toEqual([{ d: '2024-01-01', ca: 816740.17, m: 12.5, b: '\\x00\\x01GIF', h: '123456789012345678901234', n: 3 }]);
  });
});
