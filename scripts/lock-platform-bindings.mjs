// The npm registry reachable from our build machines serves DuckDB's native bindings only for linux-x64, so
// `npm install` there cannot record the other platforms' optional packages and `npm ci` then calls the lock stale.
// This adds the missing entries (platform-filtered, so npm never fetches them on another platform); run it after
// `npm install` changes the DuckDB version. Users elsewhere resolve them from the public registry as usual.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const bindings = lock.packages['node_modules/@duckdb/node-bindings'];
const platforms = {
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'linux-arm64': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'linux-x64': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'win32-arm64': { os: ['win32'], cpu: ['arm64'] },
  'win32-x64': { os: ['win32'], cpu: ['x64'] },
};
let added = 0;
for (const [name, version] of Object.entries(bindings.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const platform = platforms[name.replace('@duckdb/node-bindings-', '')];
  if (!platform) throw new Error(`unknown platform package ${name}`);
  lock.packages[key] = { version, ...platform, license: 'MIT', optional: true };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
