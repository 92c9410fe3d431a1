import { Command } from 'commander';
import Fastify from 'fastify';
import { loadConfig } from '../../config/load.js';
import { Lake } from '../../lake/lake.js';
import { SchemaRegistry } from '../../registry/registry.js';
import { registryRoutes } from '../../registry/routes.js';
import { globals, print, projectDir, untilStopped } from '../context.js';
import { nonNegativeInt } from '../options.js';

/**
 * `tributary registry`: the project's schema registry alone, at the root of its own port as Confluent's server is
 * (base URL http://host:8081), stored in the project's catalog. `tributary serve` also serves it under /registry.
 */
export function registryCommand(): Command {
  return new Command('registry')
    .description("serve the schema registry (Confluent Schema Registry's REST API) of the project's catalog, at the root of its port")
    .option('--port <port>', 'port (default 8081, as Confluent)')
    .option('--host <host>', 'address to bind (default: serve.host, else 127.0.0.1)')
    .action(async (opts: { port?: string; host?: string }, cmd: Command) => {
      const config = await loadConfig(projectDir(cmd), { required: true });
      const lake = await Lake.open(config);
      const app = Fastify({ logger: false });
      await app.register(async (a) => registryRoutes(a, new SchemaRegistry(lake.catalog.driver)));
      const port = opts.port !== undefined ? nonNegativeInt(opts.port, '--port') : 8081;
      const address = await app.listen({ port, host: opts.host ?? config.serve.host ?? '127.0.0.1' });
      print(globals(cmd).json ? JSON.stringify({ listening: address }) : `schema registry of ${config.name} at ${address} (catalog ${lake.catalog.location})`);
      await untilStopped(() => app.close().then(() => lake.close()));
    });
}
