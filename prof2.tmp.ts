import { rmSync } from 'node:fs';
import { loadConfig } from './src/config/load.js';
import { runStream } from './src/streams/worker.js';
const dir = '/tmp/prof2/p';
rmSync(dir + '/lake', { recursive: true, force: true });
const config = await loadConfig(dir);
const t = performance.now();
const r = await runStream(config, 'ventes-live', { availableNow: true });
console.log(r.records, Math.round(r.records / ((performance.now() - t) / 1000)), 'ev/s');
