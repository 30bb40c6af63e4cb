/**
 * The cost of access control: read-by-id and search throughput over HTTP with a user/ token (Practitioner/dr,
 * purpose TREAT) under a patient with a 5-provision Consent (and consents of 20 other patients on file), as a
 * ratio to the same requests on an identically seeded server with AUTH_MODE=off, measured in the same run,
 * alternating the two servers (goal >= 0.8). Prints the median of each and the ratios.
 * Usage: npx tsx bench/access.ts [rounds=5] [seconds=4] [connections=32]
 */
import { median, startProcess, stop, throughput } from './support/processes';

async function main(): Promise<void> {
  const [rounds = 5, seconds = 4, connections = 32] = process.argv.slice(2).map(Number);
  const [on, off] = await Promise.all([startProcess('serve-access.ts', ['on']), startProcess('serve-access.ts', ['off'])]);
  const auth = { authorization: on.authorization ?? '' };
  const requests = [
    { label: 'read by id', path: on.path },
    { label: 'search (Observation?subject=Patient/p0&_count=10)', path: '/fhir/Observation?subject=Patient/p0&_count=10' },
  ];
  for (const { path } of requests) {
    const check = await fetch(`http://127.0.0.1:${on.port}${path}`, { headers: auth });
    if (check.status !== 200) throw new Error(`${path}: ${check.status} with the token`);
  }
  process.stdout.write(`access control cost (${connections} connections, ${rounds} x ${seconds} s, on vs AUTH_MODE=off, alternating)\n`);
  for (const { label, path } of requests) {
    const rates = { on: [] as number[], off: [] as number[] };
    await throughput(`http://127.0.0.1:${on.port}${path}`, 2, connections, auth);
    await throughput(`http://127.0.0.1:${off.port}${path}`, 2, connections);
    for (let i = 0; i < rounds; i++) {
      rates.on.push(await throughput(`http://127.0.0.1:${on.port}${path}`, seconds, connections, auth));
      rates.off.push(await throughput(`http://127.0.0.1:${off.port}${path}`, seconds, connections));
    }
    const [a, b] = [median(rates.on), median(rates.off)];
    process.stdout.write(`  ${label.padEnd(52)} on ${a.toFixed(0).padStart(6)} req/s   off ${b.toFixed(0).padStart(6)} req/s   ratio ${(a / b).toFixed(2)}\n`);
  }
  await Promise.all([stop(on), stop(off)]);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
