#!/usr/bin/env node
// Puts invoices where the pipeline's sources read them, as seed 000's ingestion DAG found them:
//   node examples/factures/load.mjs seed         # the seed's own days (seed/raw): files and API invoices into
//                                                # landing/, the database exports into MariaDB
//   node examples/factures/load.mjs day [DATE]   # one new day as the seed generates it (default today): 20 invoices
//                                                # as CSV and JSON in landing/files/<date>/, 15 rows into MariaDB
// The database is $FACTURES_DB (default mariadb://root@127.0.0.1:3306/factures), created when missing; loading again
// changes nothing (files are copied as they are, rows upserted on their key). --project <dir> writes into another
// copy of the example.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mariadb from 'mariadb';
import { random } from './simulator.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PAYS = ['FR', 'DE', 'ES', 'IT'];
const MODES = ['CB', 'VIREMENT', 'PAYPAL', 'CHEQUE'];
const COLUMNS = ['id_facture', 'date_facture', 'id_client', 'montant_ht', 'montant_ttc', 'pays', 'mode_paiement'];

async function connect(url) {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  if (!database) throw new Error(`${url.replace(/:[^:@/]*@/, ':***@')}: name the database, e.g. mariadb://root@127.0.0.1:3306/factures`);
  const options = {
    host: target.hostname,
    port: Number(target.port || 3306),
    user: decodeURIComponent(target.username || 'root'),
    password: decodeURIComponent(target.password),
  };
  const server = await mariadb.createConnection(options);
  try {
    await server.query(`CREATE DATABASE IF NOT EXISTS \`${database.replaceAll('`', '``')}\``);
  } finally {
    await server.end();
  }
  const conn = await mariadb.createConnection({ ...options, database });
  // The seed's SQL export, as a table: one row per invoice and day.
  await conn.query(`CREATE TABLE IF NOT EXISTS factures (
    id_facture INT NOT NULL, date_facture DATE NOT NULL, id_client INT NOT NULL,
    montant_ht DECIMAL(12,2) NOT NULL, montant_ttc DECIMAL(12,2) NOT NULL,
    pays CHAR(2) NOT NULL, mode_paiement VARCHAR(16) NOT NULL,
    PRIMARY KEY (date_facture, id_facture))`);
  return conn;
}

async function upsert(conn, rows) {
  if (!rows.length) return 0;
  await conn.batch(
    `INSERT INTO factures (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})
     ON DUPLICATE KEY UPDATE ${COLUMNS.slice(2)
       .map((c) => `${c} = VALUES(${c})`)
       .join(', ')}`,
    rows.map((r) => COLUMNS.map((c) => r[c])),
  );
  return rows.length;
}

function parseCsv(text) {
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const names = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v])));
}

/** The seed's days: raw files and API invoices copied to landing/, its database exports upserted into MariaDB. */
export async function loadSeed({ project = HERE, db = process.env.FACTURES_DB ?? 'mariadb://root@127.0.0.1:3306/factures' } = {}) {
  const raw = path.join(HERE, 'seed', 'raw', 'factures');
  const copied = { files: 0, api: 0 };
  for (const kind of ['files', 'api']) {
    for (const day of readdirSync(path.join(raw, kind)).sort()) {
      const to = path.join(project, 'landing', kind, day);
      mkdirSync(to, { recursive: true });
      for (const file of readdirSync(path.join(raw, kind, day))) {
        copyFileSync(path.join(raw, kind, day, file), path.join(to, file));
        copied[kind] += 1;
      }
    }
  }
  const conn = await connect(db);
  let rows = 0;
  try {
    for (const day of readdirSync(path.join(raw, 'db')).sort()) {
      for (const file of readdirSync(path.join(raw, 'db', day))) rows += await upsert(conn, parseCsv(readFileSync(path.join(raw, 'db', day, file), 'utf8')));
    }
  } finally {
    await conn.end();
  }
  return { files: copied.files, apiFiles: copied.api, dbRows: rows };
}

/** Seed 000's generate_fake_invoices: amounts HT and TTC drawn independently, as the seed does. */
export function fakeInvoices(n, date, seed) {
  const next = random(seed);
  const round2 = (x) => Math.round(x * 100) / 100;
  return Array.from({ length: n }, (_, i) => ({
    id_facture: i + 1,
    date_facture: date,
    id_client: 1 + Math.floor(next() * 10),
    montant_ht: round2(10 + next() * 490),
    montant_ttc: round2((10 + next() * 490) * 1.2),
    pays: PAYS[Math.floor(next() * PAYS.length)],
    mode_paiement: MODES[Math.floor(next() * MODES.length)],
  }));
}

/** One new day: the files source's CSV and JSON (the same 20 invoices), and 15 rows of the database export. */
export async function generateDay({
  project = HERE,
  date = new Date().toISOString().slice(0, 10),
  db = process.env.FACTURES_DB ?? 'mariadb://root@127.0.0.1:3306/factures',
} = {}) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`${date}: expected a date YYYY-MM-DD`);
  const seed = Number(date.replaceAll('-', ''));
  const files = fakeInvoices(20, date, seed);
  const dir = path.join(project, 'landing', 'files', date);
  mkdirSync(dir, { recursive: true });
  const csv = [COLUMNS.join(','), ...files.map((r) => COLUMNS.map((c) => r[c]).join(','))].join('\n');
  writeFileSync(path.join(dir, `factures_files_${date}.csv`), `${csv}\n`);
  writeFileSync(path.join(dir, `factures_files_${date}.json`), `${JSON.stringify(files, null, 2)}\n`);
  const conn = await connect(db);
  try {
    return { date, files: files.length, dbRows: await upsert(conn, fakeInvoices(15, date, seed + 1)) };
  } finally {
    await conn.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--project');
  const project = at >= 0 ? path.resolve(args.splice(at, 2)[1]) : HERE;
  const [command, date] = args;
  const done =
    command === 'seed'
      ? loadSeed({ project }).then((r) => `seed 000's days: ${r.files} invoice files and ${r.apiFiles} API files in landing/, ${r.dbRows} rows in MariaDB`)
      : command === 'day'
        ? generateDay({ project, ...(date ? { date } : {}) }).then(
            (r) => `${r.date}: ${r.files} invoices in landing/files/${r.date}/, ${r.dbRows} rows in MariaDB`,
          )
        : Promise.reject(new Error('usage: node examples/factures/load.mjs seed | day [YYYY-MM-DD] [--project <dir>]'));
  done.then(
    (line) => console.log(line),
    (err) => {
      console.error(`factures: ${err.message}`);
      process.exit(1);
    },
  );
}
