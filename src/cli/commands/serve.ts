import { Command } from 'commander';
import { buildServer } from '../../serve/server.js';
import { loadConfig } from '../../config/load.js';
import { Lake } from '../../lake/lake.js';
import { globals, print, projectDir, untilStopped } from '../context.js';
import { nonNegativeInt } from '../options.js';
import { createLogger } from '../../util/logger.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the API (/api/v1, OpenAPI at /openapi.json, docs at /docs), the dashboard (/), /health and /metrics; logs errors to stderr')
    .option('--port <port>', 'port (default: serve.port, else 8080)')
    .option('--host <host>', 'address to bind (default: serve.host, else 127.0.0.1)')
    .action(async (opts: { port?: string; host?: string }, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const lake = await Lake.open(config);
      const logger = createLogger('serve');
      const { app } = await buildServer(lake, { logger });
      const port = opts.port !== undefined ? nonNegativeInt(opts.port, '--port') : (config.serve.port ?? 8080);
      const host = opts.host ?? config.serve.host ?? '127.0.0.1';
      const address = await app.listen({ port, host });
      print(
        globals(cmd).json
          ? JSON.stringify({ listening: address })
          : `serving ${config.name} at ${address}  (dashboard /, API /api/v1, docs /docs, metrics /metrics)`,
      );
      // Runs until interrupted; Ctrl-C closes the server and the lake cleanly.
      await untilStopped(() => app.close().then(() => lake.close()));
    });
}
