import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { ROOT } from './helpers.js';

/** UCI Online Retail, shipped with the tests (attribution in test/data/online_retail/SOURCES.md). */
export const ONLINE_RETAIL_GZ = path.join(ROOT, 'test/data/online_retail/online_retail.csv.gz');

/** The fifth field (InvoiceDate) of a CSV line, honouring quotes (descriptions may hold commas). */
function invoiceDay(line: string): string {
  let field = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted && ++field === 4) return line.slice(i + 1, i + 11);
  }
  throw new Error(`online_retail.csv.gz: no InvoiceDate in line ${line.slice(0, 80)}`);
}

/**
 * The 305 daily files (`YYYY-MM-DD.csv`, header and rows of that day in their order), split once from the shipped
 * archive into a cache folder named after its content, and reused by later runs and test files.
 */
export async function onlineRetailByDay(): Promise<string> {
  const digest = createHash('sha256').update(readFileSync(ONLINE_RETAIL_GZ)).digest('hex').slice(0, 16);
  const dir = path.join(tmpdir(), `tributary-test-data-${digest}`, 'by-day');
  // The marker sits beside the folder, which holds the daily files only.
  const complete = `${dir}.complete`;
  if (existsSync(complete) && existsSync(dir)) return dir;
  mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  const lines = createInterface({ input: createReadStream(ONLINE_RETAIL_GZ).pipe(createGunzip()), crlfDelay: Infinity });
  let header: string | undefined;
  let day: string | undefined;
  let rows: string[] = [];
  const flush = () => {
    if (day !== undefined) writeFileSync(path.join(tmp, `${day}.csv`), `${header}\n${rows.join('\n')}\n`);
    rows = [];
  };
  for await (const line of lines) {
    if (header === undefined) {
      header = line;
      continue;
    }
    if (line === '') continue;
    const d = invoiceDay(line);
    if (d !== day) {
      flush();
      day = d;
    }
    rows.push(line);
  }
  flush();
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test file split it first
  }
  writeFileSync(complete, '');
  return dir;
}
