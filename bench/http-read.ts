/**
 * Read-by-id throughput over HTTP, as a ratio to a bare Express route returning the same bytes (the same body and
 * the same response headers: security headers, ETag, Last-Modified, X-Request-Id), measured in the same run
 * (goal >= 0.7). The FHIR server runs with metrics on and request logs written to a file, as in production; the
 * same server with both off is measured too, to show their cost. Alternates the servers over several rounds and
 * prints the median of each.
 * Usage: npx tsx bench/http-read.ts [rounds=5] [seconds=4] [connections=32]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, startProcess, stop, throughput } from './support/processes';

async function main(): Promise<void> {
  const [rounds = 5, seconds = 4, connections = 32] = process.argv.slice(2).map(Number);
  const fhir = await startProcess('serve.ts', ['fhir']);
  const fhirUrl = `http://127.0.0.1:${fhir.port}${fhir.path}`;
  const auth: Record<string, string> = fhir.authorization ? { authorization: fhir.authorization } : {};
  const sample = await fetch(fhirUrl, { headers: auth });
  const bytes = Buffer.from(await sample.arrayBuffer());
  const transport = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
  const headers = [...sample.headers].filter(([name]) => !transport.has(name));
  const file = join(mkdtempSync(join(tmpdir(), 'bench-bytes-')), 'response.json');
  writeFileSync(file, JSON.stringify({ body: bytes.toString('utf8'), headers }));
  const minimalFile = join(mkdtempSync(join(tmpdir(), 'bench-bytes-')), 'minimal.json');
  writeFileSync(minimalFile, JSON.stringify({ body: bytes.toString('utf8'), headers: headers.filter(([name]) => name === 'content-type') }));
  const bare = await startProcess('serve.ts', ['bare', file]);
  const minimal = await startProcess('serve.ts', ['bare', minimalFile]);
  const quiet = await startProcess('serve.ts', ['fhir', 'quiet']);
  const servers = [
    { label: 'FHIR read (metrics and logs on)', url: fhirUrl, rates: [] as number[], headers: auth },
    { label: 'bare route, same response (body and headers)', url: `http://127.0.0.1:${bare.port}${bare.path}`, rates: [] as number[] },
    { label: 'bare route, same body, Content-Type only', url: `http://127.0.0.1:${minimal.port}${minimal.path}`, rates: [] as number[] },
    { label: 'FHIR read (metrics and logs off)', url: `http://127.0.0.1:${quiet.port}${quiet.path}`, rates: [] as number[], headers: quiet.authorization ? { authorization: quiet.authorization } : {} },
  ];
  const headersOf = (server: { headers?: Record<string, string> }): Record<string, string> => server.headers ?? {};
  for (const server of servers) await throughput(server.url, 2, connections, headersOf(server));
  for (let i = 0; i < rounds; i++) for (const server of servers) server.rates.push(await throughput(server.url, seconds, connections, headersOf(server)));
  await Promise.all([stop(fhir), stop(bare), stop(minimal), stop(quiet)]);
  const [f, same, bodyOnly, off] = servers.map((server) => median(server.rates)) as [number, number, number, number];
  process.stdout.write(`read-by-id (${bytes.length} B body, ${headers.length} response headers, ${connections} connections, ${rounds} x ${seconds} s)\n`);
  for (const server of servers) process.stdout.write(`  ${server.label.padEnd(46)} ${median(server.rates).toFixed(0).padStart(6)} req/s (median)\n`);
  process.stdout.write(`  ratio to the same response:         ${(f / same).toFixed(2)} (goal >= 0.7)\n`);
  process.stdout.write(`  ratio to the body with Content-Type: ${(f / bodyOnly).toFixed(2)}\n`);
  process.stdout.write(`  metrics and logs on / off:          ${(f / off).toFixed(2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
