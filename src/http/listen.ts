/**
 * The HTTP server around the Express app, with connection limits from Node's own settings
 * (https://nodejs.org/docs/latest-v20.x/api/http.html#class-httpserver): headers and whole requests must arrive
 * in time, idle and keep-alive connections are closed, connections above a maximum are dropped, and a request
 * body must arrive within its own timeout after the headers (408 with an OperationOutcome otherwise), so neither
 * silent nor trickling clients can hold file descriptors for long.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';
import type { Config } from '../config/config';
import { outcome } from '../core/outcome';

export type ListenConfig = Pick<Config, 'port' | 'host' | 'connections'>;

/** Node checks headersTimeout and requestTimeout on this interval; a quarter of the smaller keeps them accurate. */
const checkingInterval = (c: Config['connections']): number => Math.max(5, Math.min(30_000, Math.floor(Math.min(c.headersTimeout, c.requestTimeout) / 4)));

/** Creates the server, applies the limits and starts listening on config.host:config.port. */
export function listen(app: Express, config: ListenConfig, onListening?: () => void): http.Server {
  const limits = config.connections;
  const server = http.createServer(
    { headersTimeout: limits.headersTimeout, requestTimeout: limits.requestTimeout, connectionsCheckingInterval: checkingInterval(limits) },
    (req, res) => {
      bodyDeadline(req, res, limits.bodyTimeout);
      app(req, res);
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeout;
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.idleTimeout);
  server.on('timeout', closeUnlessComputing);
  server.listen(config.port, config.host, onListening);
  return server;
}

/**
 * A socket without traffic for the idle timeout is closed, unless the server is still computing its response
 * (nothing written yet): a slow search is not an idle client. A response stalled mid-write is closed too.
 */
function closeUnlessComputing(socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
  if (response && !response.headersSent && !response.writableEnded) return;
  socket.destroy();
}

/** Requests that announce a body (https://www.rfc-editor.org/rfc/rfc9112#section-6.3). */
function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** A body still incomplete `timeout` ms after the headers is answered 408 and its connection closed. */
function bodyDeadline(req: http.IncomingMessage, res: http.ServerResponse, timeout: number): void {
  if (!hasBody(req)) return;
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (!res.headersSent) {
      const body = outcome([{ severity: 'error', code: 'timeout', diagnostics: `The request body did not arrive within ${timeout} ms` }]);
      res.writeHead(408, { 'Content-Type': 'application/fhir+json; charset=utf-8', Connection: 'close' });
      res.end(JSON.stringify(body), () => req.socket.destroy());
    } else {
      req.socket.destroy();
    }
  }, timeout);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  req.once('end', clear);
  req.once('close', clear);
  res.once('finish', clear);
}
