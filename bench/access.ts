/**
 * The cost of access control: read-by-id and search throughput over HTTP with a user/ token (Practitioner/dr,
 * purpose TREAT) under a patient with a 5-provision Consent (and consents of 20 other patients on file), as a
 * ratio to the same requests on an identically seeded server with AUTH_MODE=off, measured in the same run,
 * alternating the two servers (goal >= 0.8). Both servers run as `npm start` does: on-disk LMDB store in a fresh
 * DATA_DIR, audit trail on (so both sides are audited). Prints the median of each, the ratio, and the servers'
 * CPU time per request (from /proc): on a shared machine the CPU ratio is the steadier figure.
 * Usage: npx tsx bench/access.ts [rounds=5] [seconds=4] [connections=32]
 *        npx tsx bench/access.ts --latency [patients=1000] [samples=100]   search latency at 100,000 resources
 *        with consent filters on (bench/support/access-latency.ts)
 */
import { cpuSeconds } from './support/cpu';
import { consentLatency } from './support/access-latency';
import { median, startProcess, stop, throughput, type Running } from './support/processes';

async function main(): Promise<void> {
  if (process.argv[2] === '--latency') {
    const [patients = 1000, samples = 100] = process.argv.slice(3).map(Number);
    await consentLatency(patients, samples);
    return;
  }
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
  /** Requests per second, and the server's CPU milliseconds per request, over one run. */
  const measure = async (server: Running, path: string, headers: Record<string, string> = {}): Promise<{ rate: number; cpuMs: number }> => {
    const cpu = cpuSeconds(server.child.pid);
    const rate = await throughput(`http://127.0.0.1:${server.port}${path}`, seconds, connections, headers);
    return { rate, cpuMs: ((cpuSeconds(server.child.pid) - cpu) * 1000) / (rate * seconds) };
  };
  process.stdout.write(`access control cost (${connections} connections, ${rounds} x ${seconds} s, on vs AUTH_MODE=off, alternating; both audited, LMDB on disk)\n`);
  for (const { label, path } of requests) {
    const runs = { on: [] as Array<{ rate: number; cpuMs: number }>, off: [] as Array<{ rate: number; cpuMs: number }> };
    await throughput(`http://127.0.0.1:${on.port}${path}`, 2, connections, auth);
    await throughput(`http://127.0.0.1:${off.port}${path}`, 2, connections);
    for (let i = 0; i < rounds; i++) {
      runs.on.push(await measure(on, path, auth));
      runs.off.push(await measure(off, path));
    }
    const [a, b] = [median(runs.on.map((r) => r.rate)), median(runs.off.map((r) => r.rate))];
    const [ca, cb] = [median(runs.on.map((r) => r.cpuMs)), median(runs.off.map((r) => r.cpuMs))];
    process.stdout.write(
      `  ${label.padEnd(52)} on ${a.toFixed(0).padStart(6)} req/s   off ${b.toFixed(0).padStart(6)} req/s   ratio ${(a / b).toFixed(2)}` +
        `   CPU/request on ${ca.toFixed(3)} ms off ${cb.toFixed(3)} ms, ratio ${(cb / ca).toFixed(2)}\n`,
    );
  }
  await Promise.all([stop(on), stop(off)]);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
