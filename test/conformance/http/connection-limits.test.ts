/**
 * Connection limits (src/http/listen.ts): silent, trickling and idle clients are cut off by the server, and
 * connections above the maximum are refused, so no client can hold file descriptors for long. Small timeouts
 * keep these tests fast; the defaults are documented in the README.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { loadConfig } from '../../../src/config/config';
import { listen } from '../../../src/http/listen';
import { startTestServer, type TestServer } from '../../fixtures/server';

const LIMITS = {
  HTTP_HEADERS_TIMEOUT: '400ms',
  HTTP_REQUEST_TIMEOUT: '5s',
  HTTP_KEEP_ALIVE_TIMEOUT: '200ms',
  HTTP_IDLE_TIMEOUT: '300ms',
  HTTP_BODY_TIMEOUT: '400ms',
  HTTP_MAX_CONNECTIONS: '3',
};

interface Closed {
  data: string;
  ms: number;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the server closes the socket, with what it sent and how long it took. */
function closed(socket: Socket, started = Date.now()): Promise<Closed> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (d) => (data += String(d)));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve({ data, ms: Date.now() - started }));
  });
}

/** Writes `text` one byte every `everyMs` until the socket closes; stops by itself after `text`. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++] as string);
  }, everyMs);
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => {
    if (server.listening) resolve((server.address() as { port: number }).port);
    else server.once('listening', () => resolve((server.address() as { port: number }).port));
  });
}

describe('connection limits (src/http/listen.ts)', () => {
  let s: TestServer;
  let server: Server;
  let port: number;
  before(async () => {
    s = await startTestServer({ env: LIMITS });
    server = listen(s.app, { ...s.config, port: 0, host: '127.0.0.1' });
    port = await listening(server);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await s.close();
  });

  it('a connection that sends nothing is closed by the idle timeout', async () => {
    const started = Date.now();
    const socket = await open(port);
    const result = await closed(socket, started);
    assert.ok(result.ms >= 250 && result.ms < 3000, `closed after ${result.ms} ms`);
  });

  it('headers trickled byte by byte are cut off by the headers timeout', async () => {
    const socket = await open(port);
    const done = closed(socket);
    trickle(socket, `GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'x'.repeat(200)}`, 50);
    const result = await done;
    assert.ok(result.ms < 3000, `closed after ${result.ms} ms`);
    assert.match(result.data, /^HTTP\/1\.1 408/);
  });

  it('a body trickled at a byte at a time after complete headers is answered 408 with an OperationOutcome', async () => {
    const socket = await open(port);
    const done = closed(socket);
    // With a valid token: a request without one is refused before its body is read (authenticate-first.test.ts).
    socket.write(`POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.systemToken}\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n`);
    trickle(socket, '{"resourceType":"Patient"'.padEnd(1000, ' '), 50);
    const result = await done;
    assert.ok(result.ms >= 350 && result.ms < 3000, `closed after ${result.ms} ms`);
    assert.match(result.data, /^HTTP\/1\.1 408/);
    assert.match(result.data, /"resourceType":"OperationOutcome"/);
    assert.match(result.data, /"code":"timeout"/);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const token = await s.token({ scope: 'system/*.rs' });
    const socket = await open(port);
    const done = closed(socket);
    socket.write(`GET /fhir/Patient/nope HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    const result = await done;
    assert.match(result.data, /^HTTP\/1\.1 404/);
    // Node adds a one-second grace to keepAliveTimeout before it closes the socket.
    assert.ok(result.ms >= 200 && result.ms < 3000, `closed after ${result.ms} ms`);
  });

});

describe('the connection maximum', () => {
  it('connections above HTTP_MAX_CONNECTIONS are refused, and accepted again once others close', async () => {
    const s = await startTestServer({ env: { ...LIMITS, HTTP_IDLE_TIMEOUT: '20s' } });
    const server = listen(s.app, { ...s.config, port: 0, host: '127.0.0.1' });
    const connections = (): Promise<number> => new Promise((resolve) => server.getConnections((_err, n) => resolve(n)));
    try {
      const port = await listening(server);
      const held = await Promise.all([open(port), open(port), open(port)]);
      while ((await connections()) < 3) await new Promise((resolve) => setTimeout(resolve, 10));
      const extra = await open(port);
      const refused = await closed(extra);
      assert.ok(refused.ms < 5000, `the extra connection was closed after ${refused.ms} ms, long before the idle timeout`);
      assert.equal(refused.data, '');
      for (const socket of held) socket.destroy();
      while ((await connections()) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const res = await fetch(`http://127.0.0.1:${port}/fhir/metadata`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await s.close();
    }
  });
});

describe('the request timeout', () => {
  it('cuts off a request whose body keeps trickling past HTTP_REQUEST_TIMEOUT', async () => {
    const s = await startTestServer({ env: { ...LIMITS, HTTP_HEADERS_TIMEOUT: '200ms', HTTP_REQUEST_TIMEOUT: '600ms', HTTP_BODY_TIMEOUT: '10s' } });
    const server = listen(s.app, { ...s.config, port: 0, host: '127.0.0.1' });
    try {
      const socket = await open(await listening(server));
      const done = closed(socket);
      socket.write(`POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.systemToken}\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n`);
      trickle(socket, ' '.repeat(1000), 50);
      const result = await done;
      assert.ok(result.ms >= 550 && result.ms < 3000, `closed after ${result.ms} ms`);
      assert.match(result.data, /^HTTP\/1\.1 408/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await s.close();
    }
  });
});

describe('the idle timeout spares a response being computed', () => {
  it('a handler slower than the idle timeout still answers', async () => {
    const app = express();
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.send('done'), 600);
    });
    const config = loadConfig({ ...LIMITS, HTTP_IDLE_TIMEOUT: '150ms', HTTP_KEEP_ALIVE_TIMEOUT: '100ms' });
    const server = listen(app, { ...config, port: 0, host: '127.0.0.1' });
    try {
      const port = await listening(server);
      const res = await fetch(`http://127.0.0.1:${port}/slow`);
      assert.equal(await res.text(), 'done');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
