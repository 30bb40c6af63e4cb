/**
 * Benchmark server process. `fhir` mode: the real server on a fresh on-disk embedded store with one R4 example
 * Patient (on LMDB), with metrics on and request logs written to a file. `bare` mode: a bare Express route returning fixed bytes: the body and headers in the given JSON file
 * ({ body, headers }), i.e. the same response the FHIR server sends. Prints one JSON line {port, path}.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { loadConfig } from '../../src/config/config';
import { systemTokenFor } from '../../src/access/local-key';
import { internalAccess } from '../../src/access/request-access';
import { createServer } from '../../src/compose';
import pino from 'pino';
import { jsonLogger, silentLogger } from '../../src/http/logger';

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === 'bare') {
    const sample = JSON.parse(readFileSync(process.argv[3] as string, 'utf8')) as { body: string; headers: Array<[string, string]> };
    const bytes = Buffer.from(sample.body);
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    app.get('/fhir/Patient/:id', (_req, res) => {
      for (const [name, value] of sample.headers) res.setHeader(name, value);
      res.end(bytes);
    });
    const srv = app.listen(0, '127.0.0.1', () => {
      process.stdout.write(`${JSON.stringify({ port: (srv.address() as { port: number }).port, path: '/fhir/Patient/example' })}\n`);
    });
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-read-'));
  // As in production: metrics on (METRICS_PORT) and one JSON log line per request, written synchronously to a
  // file; `fhir quiet`: both off, to show what they cost.
  const quiet = process.argv[3] === 'quiet';
  const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, ...(quiet ? {} : { METRICS_PORT: '0' }), ...(process.env.AUDIT ? { AUDIT: process.env.AUDIT } : {}) });
  const logFile = join(dataDir, 'server.log');
  const logger = quiet ? silentLogger : jsonLogger({ destination: pino.destination({ dest: logFile, sync: true }) });
  const server = await createServer(config, { logger });
  const example = JSON.parse(readFileSync(require.resolve('hl7.fhir.r4.examples/Patient-example.json'), 'utf8'));
  const result = await server.router.route({ method: 'PUT', path: ['Patient', example.id], query: [], body: example, prefer: {}, access: internalAccess('bench seeding') });
  if (result.status !== 201) throw new Error(`seeding failed: ${result.status}`);
  const authorization = `Bearer ${await systemTokenFor(dataDir, config.auth.issuer)}`;
  const srv = server.app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (srv.address() as { port: number }).port, path: `/fhir/Patient/${example.id}`, logFile, authorization })}\n`);
  });
  server.metrics?.watch(srv);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
