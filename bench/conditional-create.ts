/**
 * Conditional create (POST with If-None-Exist, https://hl7.org/fhir/R4/http.html#ccreate) throughput at 16
 * connections on a real on-disk server, as a ratio to plain create in the same run (goal >= 0.8). Every request
 * carries a fresh identifier, so each conditional create searches inside its write transaction, finds nothing
 * and creates; plain creates carry the same bodies. Rounds alternate the two; medians are printed.
 * Usage: npx tsx bench/conditional-create.ts [rounds=5] [seconds=4] [connections=16]
 */
import autocannon from 'autocannon';
import { cpuSeconds } from './support/cpu';
import { median, startProcess, stop } from './support/processes';

let serial = 0;

function body(value: string): string {
  return JSON.stringify({
    resourceType: 'Patient',
    identifier: [{ system: 'http://hospital.example.org/mrn', value }],
    name: [{ family: 'Chalmers', given: ['Peter', 'James'] }],
    gender: 'male',
    birthDate: '1974-12-25',
    address: [{ line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
  });
}

/** Creates per second, and the server's CPU time per create in µs. */
async function createsPerSecond(server: { port: number; child: { pid?: number }; authorization?: string }, conditional: boolean, connections: number, seconds: number): Promise<{ rate: number; cpuMicros: number }> {
  const cpuBefore = cpuSeconds(server.child.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/fhir/Patient`,
    method: 'POST',
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const value = `MRN-${process.pid}-${serial++}`;
          const headers: Record<string, string> = { 'content-type': 'application/fhir+json', prefer: 'return=minimal', ...(server.authorization ? { authorization: server.authorization } : {}) };
          if (conditional) headers['if-none-exist'] = `identifier=http://hospital.example.org/mrn|${value}`;
          return { ...request, headers, body: body(value) };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rate: result.requests.average, cpuMicros: ((cpuSeconds(server.child.pid) - cpuBefore) * 1e6) / result.requests.total };
}

async function main(): Promise<void> {
  const [rounds = 5, seconds = 4, connections = 16] = process.argv.slice(2).map(Number);
  const server = await startProcess('serve.ts', ['fhir']);
  await createsPerSecond(server, false, connections, 1);
  await createsPerSecond(server, true, connections, 1);
  const plainRuns: Array<{ rate: number; cpuMicros: number }> = [];
  const conditionalRuns: Array<{ rate: number; cpuMicros: number }> = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither always meets the store bigger or a compaction more often.
    if (i % 2 === 0) plainRuns.push(await createsPerSecond(server, false, connections, seconds));
    conditionalRuns.push(await createsPerSecond(server, true, connections, seconds));
    if (i % 2 === 1) plainRuns.push(await createsPerSecond(server, false, connections, seconds));
  }
  await stop(server);
  const plain = plainRuns.map((r) => r.rate);
  const conditional = conditionalRuns.map((r) => r.rate);
  const [p, c] = [median(plain), median(conditional)];
  const [pCpu, cCpu] = [median(plainRuns.map((r) => r.cpuMicros)), median(conditionalRuns.map((r) => r.cpuMicros))];
  process.stdout.write(`create on an on-disk embedded store, ${connections} connections, ${rounds} x ${seconds} s, alternating\n`);
  process.stdout.write(`  plain create (POST)                  ${p.toFixed(0).padStart(6)} resources/s (median)\n`);
  process.stdout.write(`  conditional create (If-None-Exist)   ${c.toFixed(0).padStart(6)} resources/s (median)\n`);
  process.stdout.write(`  rounds, plain:       ${plain.map((r) => r.toFixed(0)).join(' ')}\n`);
  process.stdout.write(`  rounds, conditional: ${conditional.map((r) => r.toFixed(0)).join(' ')}\n`);
  process.stdout.write(`  ratio: ${(c / p).toFixed(2)} (goal >= 0.8)\n`);
  process.stdout.write(`  server CPU per create: plain ${pCpu.toFixed(0)} µs, conditional ${cCpu.toFixed(0)} µs (ratio of costs ${(pCpu / cCpu).toFixed(2)})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
