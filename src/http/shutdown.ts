/**
 * Graceful stop of an HTTP server: stop accepting connections, let in-flight requests finish and close keep-alive
 * connections as soon as they are idle, and after `timeoutMs` close whatever is still open. Resolves once every
 * connection is gone, so the store can be closed behind it with no request still writing.
 */
import type { Server } from 'node:http';

const IDLE_SWEEP_MS = 50;

export function closeGracefully(server: Server, timeoutMs: number): Promise<{ forced: boolean }> {
  return new Promise((resolve) => {
    let forced = false;
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve({ forced });
    });
    server.closeIdleConnections();
  });
}
