import type { Command } from 'commander';
import { SERVICE } from '../auth/principal.js';
import { buildServer } from '../http/server.js';
import { createStorage } from '../service/storage.js';

const SERVICE_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export function registerServe(program: Command) {
  program
    .command('serve')
    .description('Run the HTTP service (PORT, HOST, BHIV_STORAGE_BACKEND…)')
    .option('--port <port>', 'listen on this port (overrides PORT)')
    .option('--host <host>', 'listen on this address (overrides HOST)')
    .option('--log', 'log every request as JSON')
    .action(async (opts: { port?: string; host?: string; log?: boolean }) => {
      if (opts.port) process.env.PORT = opts.port;
      if (opts.host) process.env.HOST = opts.host;
      const storage = await createStorage();
      const app = await buildServer(storage, { logger: opts.log === true });
      const address = await app.listen({ host: storage.config.host, port: storage.config.port });
      const base = storage.config.env.PUBLIC_URL ? storage.config.publicUrl : address;
      console.log(`bucketgate listening on ${address} (backend: ${storage.config.backend}, catalog: ${storage.catalog.dialect})`);
      console.log(`API docs: ${base}/docs`);
      if (storage.secretCreated) {
        // First start without JWT_SECRET: hand the operator a way in, as Jupyter does.
        const token = await storage.jwt.mint({ role: SERVICE.role, sub: 'operator', ttlSeconds: SERVICE_TOKEN_TTL_SECONDS });
        console.log(`Service token (valid 30 days; mint more with "bucketgate token"):\n  ${token}`);
        console.log(`Dashboard: ${base}/#token=${token}`);
      }
      let closing = false;
      const shutdown = async (signal: string) => {
        if (closing) return;
        closing = true;
        console.log(`${signal}: finishing in-flight requests…`);
        const force = setTimeout(() => process.exit(1), Number(process.env.BHIV_SHUTDOWN_TIMEOUT_MS ?? 10_000));
        force.unref();
        await app.close();
        await storage.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
    });
}
