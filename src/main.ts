/** Entry point: read configuration, build the server, listen, and shut down cleanly on SIGINT/SIGTERM. */
import { ConfigError, loadConfig } from './config/config';
import { createServer } from './compose';
import { jsonLogger } from './http/logger';
import { listen } from './http/listen';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = jsonLogger();
  const server = await createServer(config, { logger });
  const http = listen(server.app, config, () => {
    logger.log({ level: 'info', msg: 'listening', url: config.baseUrl, store: server.store.kind });
  });
  http.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`Cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
  const stop = (): void => {
    http.close(() => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    http.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
