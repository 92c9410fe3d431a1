// The server under load, in its own process: `tsx bench/api-server.ts <project> <port>`.
import { loadConfig } from '../src/config/load.js';
import { Lake } from '../src/lake/lake.js';
import { buildServer } from '../src/serve/server.js';

const [project, port] = process.argv.slice(2) as [string, string];
const config = await loadConfig(project);
// The load generator is one client: lift the per-client rate limit so that it measures the server, not the limiter.
config.serve = { ...config.serve, rateLimit: { max: 100_000_000 } };
const lake = await Lake.open(config);
const { app } = await buildServer(lake);
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
