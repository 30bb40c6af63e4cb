/**
 * Audit trail costs (issue 11). Run with: node --expose-gc --import tsx bench/audit.ts [rounds=5] [seconds=4] [connections=32] [events=1000000]
 * 1. Read-by-id throughput over HTTP with the audit trail on, as a ratio to the same server with it off, measured
 *    in the same run (the two server processes alternate over `rounds`; medians; goal >= 0.85).
 * 2. Heap growth per `events` appends on the embedded trail, driving the trail directly (the event of a read of
 *    an example Patient, 256 appends in flight at a time, as concurrent requests make them); goal <= 100 MB.
 * 3. Chain verification speed over that trail (events/s; goal >= 200,000).
 */
import { median, startProcess, stop, throughput } from './support/processes';
import { buildAuditEvent } from '../src/audit/event';
import { LmdbAuditTrail } from '../src/audit/lmdb-trail';

async function readRatio(rounds: number, seconds: number, connections: number): Promise<void> {
  const on = await startProcess('serve.ts', ['fhir', 'quiet'], { AUDIT: 'on' });
  const off = await startProcess('serve.ts', ['fhir', 'quiet'], { AUDIT: 'off' });
  const servers = [
    { label: 'audit on', url: `http://127.0.0.1:${on.port}${on.path}`, auth: on.authorization, rates: [] as number[] },
    { label: 'audit off', url: `http://127.0.0.1:${off.port}${off.path}`, auth: off.authorization, rates: [] as number[] },
  ];
  for (const server of servers) await throughput(server.url, 2, connections, server.auth ? { authorization: server.auth } : {});
  for (let i = 0; i < rounds; i++) for (const server of servers) server.rates.push(await throughput(server.url, seconds, connections, server.auth ? { authorization: server.auth } : {}));
  await Promise.all([stop(on), stop(off)]);
  const [a, b] = servers.map((s) => median(s.rates)) as [number, number];
  process.stdout.write(`read-by-id, ${connections} connections, ${rounds} x ${seconds} s\n`);
  for (const s of servers) process.stdout.write(`  ${s.label.padEnd(10)} ${median(s.rates).toFixed(0).padStart(6)} req/s (median of ${s.rates.map((r) => r.toFixed(0)).join(', ')})\n`);
  process.stdout.write(`  ratio on/off: ${(a / b).toFixed(2)} (goal >= 0.85)\n`);
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function heapAndVerify(events: number): Promise<void> {
  if (!(globalThis as { gc?: () => void }).gc) process.stdout.write('  (run with node --expose-gc for exact heap figures)\n');
  const trail = LmdbAuditTrail.temporary();
  const event = () =>
    buildAuditEvent(
      {
        req: { method: 'GET', path: ['Patient', 'example'], query: [], prefer: {}, access: { token: null, decidedBy: new Set(['implicit:permit']), clientAddress: '127.0.0.1' } },
        interaction: 'read',
        params: { type: 'Patient', id: 'example' },
        result: { status: 200, resource: { resourceType: 'Patient', id: 'example', meta: { versionId: '1' } } },
        recorded: new Date().toISOString(),
      },
      { patientsOf: () => ['Patient/example'], serverName: 'fhir-r4-server' },
    );
  await trail.append(event());
  const before = heapMb();
  const started = process.hrtime.bigint();
  const inFlight = 256;
  for (let done = 0; done < events; done += inFlight) {
    const batch: Array<Promise<number>> = [];
    for (let i = 0; i < inFlight && done + i < events; i++) batch.push(trail.append(event()));
    await Promise.all(batch);
  }
  const appendSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = heapMb();
  process.stdout.write(`audit trail, ${events} events appended directly (${inFlight} in flight): ${(events / appendSeconds).toFixed(0)} appends/s\n`);
  process.stdout.write(`  heap before ${before.toFixed(1)} MB, after ${after.toFixed(1)} MB: growth ${(after - before).toFixed(1)} MB per ${events} events (goal <= 100 MB per 1,000,000)\n`);
  const speeds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    const report = await trail.verify();
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (!report.ok) throw new Error(`chain broken: ${report.broken?.reason}`);
    speeds.push(report.checked / s);
  }
  process.stdout.write(`  chain verification: ${median(speeds).toFixed(0)} events/s (median of 3 full passes; goal >= 200,000)\n`);
  await trail.close();
}

async function main(): Promise<void> {
  const [rounds = 5, seconds = 4, connections = 32, events = 1_000_000] = process.argv.slice(2).map(Number);
  await readRatio(rounds, seconds, connections);
  await heapAndVerify(events);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
