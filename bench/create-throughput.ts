/**
 * Single-resource create throughput over HTTP on an on-disk embedded store (every create durable before its
 * 201), at 1 and 32 concurrent connections. Median of several rounds. The LMDB engine and the journal/snapshot
 * engine of earlier versions are measured in the same run, taking turns round by round, with their ratio.
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
  const journal = await startProcess('serve.ts', ['fhir'], { BENCH_ENGINE: 'journal' });
  const lmdb = await startProcess('serve.ts', ['fhir']);
  for (const server of [journal, lmdb]) await createsPerSecond(server.port, 8, 1, server.authorization);
  process.stdout.write(`create (POST /fhir/Patient, durable, on-disk embedded store; ${rounds} x ${seconds} s, engines taking turns)\n`);
  for (const connections of [1, 32]) {
    const rates = { journal: [] as number[], lmdb: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      rates.journal.push(await createsPerSecond(journal.port, connections, seconds, journal.authorization));
      rates.lmdb.push(await createsPerSecond(lmdb.port, connections, seconds, lmdb.authorization));
    }
    const [j, l] = [median(rates.journal), median(rates.lmdb)];
    process.stdout.write(`  ${String(connections).padStart(2)} connections: journal ${j.toFixed(0)}/s, LMDB ${l.toFixed(0)}/s (medians), LMDB/journal ${(l / j).toFixed(2)}\n`);
  }
  await stop(journal);
  await stop(lmdb);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
