#!/usr/bin/env node
// Seed 003's UserActivity events as NDJSON, one per line, for `tributary produce --schema`:
//   node examples/user-activity/generate.mjs [--count 600] [--version 1|2] [--seed 1] [--every 3000] [--start 2026-01-05T10:00:00Z] > events.ndjson
// Deterministic: the same options give the same events. Events are `every` ms apart (each up to 3 s early or late;
// by default the last 30 minutes, ending now), by 20 users; version 2 adds the optional session_id its producer introduced.
import { fileURLToPath } from 'node:url';

const TYPES = ['CLICK', 'VIEW', 'PURCHASE', 'LOGIN', 'LOGOUT'];
const WEIGHTS = [0.45, 0.35, 0.08, 0.06, 0.06];

function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function userActivity({ count = 600, version = 1, seed = 1, every = 3000, start = Date.parse('2026-01-05T10:00:00Z') } = {}) {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    let r = next();
    let type = TYPES.length - 1;
    for (let k = 0, acc = 0; k < TYPES.length; k++)
      if (r < (acc += WEIGHTS[k])) {
        type = k;
        break;
      }
    r = next();
    const user = `u${String(1 + Math.floor(next() * 20)).padStart(2, '0')}`;
    const event = {
      event_id: `${seed}-${version}-${i}`,
      user_id: user,
      event_type: TYPES[type],
      timestamp: start + i * every + Math.round((r - 0.5) * 6000),
      page_id: TYPES[type] === 'LOGIN' || TYPES[type] === 'LOGOUT' ? null : `/page/${1 + Math.floor(next() * 12)}`,
      metadata: { device: next() < 0.6 ? 'mobile' : 'desktop' },
    };
    return version >= 2 ? { ...event, session_id: `${user}-s${Math.floor(i / 50)}` } : event;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? process.argv[at + 1] : fallback;
  };
  const count = Number(arg('count', 600));
  const every = Number(arg('every', 3000));
  const events = userActivity({
    count,
    version: Number(arg('version', 1)),
    seed: Number(arg('seed', Number(arg('version', 1)))),
    every,
    start: arg('start') ? Date.parse(arg('start')) : Date.now() - count * every,
  });
  for (const e of events) process.stdout.write(`${JSON.stringify(e)}\n`);
}
