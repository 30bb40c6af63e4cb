/** Entry point: read configuration, build the server, listen, and shut down gracefully on SIGINT/SIGTERM. */
import type { Server } from 'node:http';
import { ConfigError, configSummary, loadConfig } from './config/config';
import { createServer } from './compose';
import { listen } from './http/listen';
import { metricsListener } from './http/metrics';
import { closeGracefully } from './http/shutdown';

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
  const server = await createServer(config);
  const { logger } = server;
  const http = listen(server.app, config, () => {
    logger.log({ level: 'info', msg: 'listening', url: config.baseUrl, store: server.store.kind, config: configSummary(config) });
  });
  http.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`Cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
  let metricsHttp: Server | undefined;
  if (server.metrics && config.metricsPort !== undefined) {
    server.metrics.watch(http);
    metricsHttp = metricsListener(server.metrics).listen(config.metricsPort, config.metricsHost, () => {
      const address = metricsHttp?.address();
      logger.log({ level: 'info', msg: 'metrics listening', port: typeof address === 'object' && address ? address.port : config.metricsPort });
    });
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.log({ level: 'info', msg: 'shutting down', signal, timeoutMs: config.shutdownTimeoutMs });
    server.probes.drain();
    const started = Date.now();
    closeGracefully(http, config.shutdownTimeoutMs)
      .then(async ({ forced }) => {
        metricsHttp?.close();
        metricsHttp?.closeAllConnections();
        await server.close();
        logger.log({ level: 'info', msg: 'stopped', signal, ms: Date.now() - started, forcedConnectionClose: forced });
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.log({ level: 'error', msg: 'shutdown failed', error: err instanceof Error ? err.name : 'error' });
        process.exit(1);
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
