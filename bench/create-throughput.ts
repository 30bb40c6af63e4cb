/**
 * Single-resource create throughput over HTTP on an on-disk embedded store (every create durable before its
 * 201), at 1 and 32 concurrent connections. Median of several rounds.
 * Usage: npx tsx bench/create-throughput.ts [rounds=3] [seconds=4]
 */
import autocannon from 'autocannon';
import { median, startProcess, stop } from './support/processes';

const BODY = JSON.stringify({
  resourceType: 'Patient',
  identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN00000001' }],
  name: [{ family: 'Chalmers', given: ['Peter', 'James'] }],
  gender: 'male',
  birthDate: '1974-12-25',
  address: [{ line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
});

async function createsPerSecond(port: number, connections: number, seconds: number, authorization = ''): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/fhir/Patient`,
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal', authorization },
    body: BODY,
    connections,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

async function main(): Promise<void> {
  const [rounds = 3, seconds = 4] = process.argv.slice(2).map(Number);
  const server = await startProcess('serve.ts', ['fhir']);
  await createsPerSecond(server.port, 8, 1, server.authorization);
  process.stdout.write(`create (POST /fhir/Patient, durable, on-disk embedded store; ${rounds} x ${seconds} s)\n`);
  for (const connections of [1, 32]) {
    const rates: number[] = [];
    for (let i = 0; i < rounds; i++) rates.push(await createsPerSecond(server.port, connections, seconds, server.authorization));
    process.stdout.write(`  ${String(connections).padStart(2)} connections: ${median(rates).toFixed(0)} resources/s (median)\n`);
  }
  await stop(server);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
