#!/usr/bin/env node
// Loads the Northwind dump (data/northwind.sql) into a PostgreSQL database, creating the database if it is missing:
//   node examples/northwind/load.mjs [postgres://user@host:5432/northwind]
// The URL defaults to $NORTHWIND_DB, then postgres://postgres@127.0.0.1:5432/northwind. Loading again starts over
// (the dump drops its tables first).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export async function loadNorthwind(url) {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  if (!database) throw new Error(`${url}: name the database, e.g. postgres://postgres@127.0.0.1:5432/northwind`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const server = new pg.Client({ connectionString: admin.toString() });
  await server.connect();
  try {
    const exists = await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await server.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await server.end();
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(readFileSync(fileURLToPath(new URL('data/northwind.sql', import.meta.url)), 'utf8'));
    const { rows } = await client.query('SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_details) AS lines');
    return { database, orders: Number(rows[0].orders), lines: Number(rows[0].lines) };
  } finally {
    await client.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.NORTHWIND_DB ?? 'postgres://postgres@127.0.0.1:5432/northwind';
  loadNorthwind(url).then(
    (r) => console.log(`loaded Northwind into ${r.database}: ${r.orders} orders, ${r.lines} order lines`),
    (err) => {
      console.error(`northwind: ${err.message}`);
      process.exit(1);
    },
  );
}
