import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../util/random.js';

/**
 * Deterministic generator of seed 002's sources: `clients.csv` and monthly `achats_YYYY-MM.csv` files, with the dirt
 * a real feed has, injected at known rates so that tests can account for every row:
 * duplicates, nulls, wrong types, out-of-range amounts, unparseable and future dates, mixed date formats, emails
 * without `@`, purchases of unknown clients, and one malformed file (semicolons, other columns).
 */
export interface RetailDataOptions {
  seed?: number;
  /** Purchase rows (before duplicates); clients are a sixth of it. */
  rows?: number;
}

export interface RetailDataManifest {
  seed: number;
  files: string[];
  clients: { lines: number; duplicates: number; missing: number; invalidEmail: number; wrongType: number };
  achats: {
    lines: number;
    duplicates: number;
    missing: number;
    wrongType: number;
    outOfRange: number;
    unparseableDate: number;
    futureDate: number;
    unknownClient: number;
  };
  malformedFile: string;
}

const COUNTRIES = ['France', 'Germany', 'Spain', 'Italy', 'Belgium', 'Netherlands', 'Sweden', 'UK', 'Canada'];
const PRODUCTS = ['Laptop', 'Phone', 'Tablet', 'Headphones', 'Smartwatch', 'Camera', 'Printer', 'Monitor', 'Keyboard', 'Mouse'];
const FIRST = ['Alice', 'Bruno', 'Chloé', 'David', 'Emma', 'Farid', 'Giulia', 'Hugo', 'Inès', 'Jonas', 'Katia', 'Léo', 'Mila', 'Noah', 'Olga', 'Paul'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Schmidt', 'Rossi', 'García', 'Janssens', 'de Vries', 'Lindqvist', 'Smith', 'Tremblay', 'Moreau'];

export function generateRetailData(dir: string, options: RetailDataOptions = {}): RetailDataManifest {
  const seed = options.seed ?? 42;
  const rows = Math.max(100, Math.floor(options.rows ?? 10_000));
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  const pad = (n: number) => String(n).padStart(2, '0');
  mkdirSync(dir, { recursive: true });

  const clientCount = Math.max(20, Math.floor(rows / 6));
  const m: RetailDataManifest = {
    seed,
    files: [],
    clients: { lines: 0, duplicates: 0, missing: 0, invalidEmail: 0, wrongType: 0 },
    achats: { lines: 0, duplicates: 0, missing: 0, wrongType: 0, outOfRange: 0, unparseableDate: 0, futureDate: 0, unknownClient: 0 },
    malformedFile: 'achats_export_manuel.csv',
  };

  const clientLines = ['id_client,nom,email,date_inscription,pays'];
  for (let id = 1; id <= clientCount; id++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    let nom = `${first} ${last}`;
    let email = `${first}.${last}.${id}@example.org`.toLowerCase().replace(/[^a-z0-9.@]/g, '');
    let pays = pick(COUNTRIES);
    let idText = String(id);
    let clean = false;
    if (chance(0.01)) {
      m.clients.missing++;
      if (chance(0.5)) nom = '';
      else pays = '';
      // biome-ignore lint/suspicious/noDuplicateElseIf: each chance() draws a new random number
    } else if (chance(0.01)) {
      m.clients.invalidEmail++;
      email = email.replace('@', ' at ');
    } else if (chance(0.005)) {
      m.clients.wrongType++;
      idText = `C-${id}`;
    } else clean = true;
    const line = `${idText},${nom},${email},2023-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))},${pays}`;
    clientLines.push(line);
    // Only clean lines are duplicated, so that every dirty line has exactly one fate.
    if (clean && chance(0.01)) {
      m.clients.duplicates++;
      clientLines.push(line);
    }
  }
  m.clients.lines = clientLines.length - 1;
  writeFileSync(path.join(dir, 'clients.csv'), `${clientLines.join('\n')}\n`);
  m.files.push('clients.csv');

  const byMonth = new Map<number, string[]>();
  for (let id = 1; id <= rows; id++) {
    const month = 1 + Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    let client = String(1 + Math.floor(random() * clientCount));
    let date = chance(0.1) ? `${pad(day)}/${pad(month)}/2024` : `2024-${pad(month)}-${pad(day)}`;
    let amount = (10 + random() * 1990).toFixed(2);
    let product = pick(PRODUCTS);
    const dirt = random();
    if (dirt < 0.01) {
      m.achats.missing++;
      if (chance(0.5)) client = '';
      else product = '';
    } else if (dirt < 0.015) {
      m.achats.wrongType++;
      amount = pick(['abc', '12,50', 'N/A']);
    } else if (dirt < 0.025) {
      m.achats.outOfRange++;
      amount = pick(['-50.00', '25000.00', '-0.01', '10000.01']);
    } else if (dirt < 0.035) {
      m.achats.unparseableDate++;
      date = pick(['2024-13-45', 'hier', '31/02/2024', '2024-02-30']);
    } else if (dirt < 0.04) {
      m.achats.futureDate++;
      date = `2099-${pad(month)}-${pad(day)}`;
    } else if (dirt < 0.045) {
      m.achats.unknownClient++;
      client = String(clientCount + 1 + Math.floor(random() * 100));
    }
    const line = `${id},${client},${date},${amount},${product}`;
    const lines = byMonth.get(month) ?? [];
    lines.push(line);
    if (dirt >= 0.045 && chance(0.01)) {
      m.achats.duplicates++;
      lines.push(line);
    }
    byMonth.set(month, lines);
  }
  for (const [month, lines] of [...byMonth.entries()].sort((a, b) => a[0] - b[0])) {
    const name = `achats_2024-${pad(month)}.csv`;
    writeFileSync(path.join(dir, name), `id_achat,id_client,date_achat,montant,produit\n${lines.join('\n')}\n`);
    m.files.push(name);
    m.achats.lines += lines.length;
  }
  // A manual export in another shape: it must be quarantined whole, not half-read.
  writeFileSync(path.join(dir, m.malformedFile), 'ref;client;jour;prix\n900001;1;2024-06-01;10,00\n900002;2;2024-06-02;12,00\n');
  m.files.push(m.malformedFile);
  return m;
}
