/**
 * Audit trail costs (issue 11). Run with: node --expose-gc --import tsx bench/audit.ts [rounds=5] [seconds=4] [connections=32] [events=1000000]
 * (rounds 0 skips the HTTP part, events 0 the trail part).
 * 1. Read-by-id throughput over HTTP with the audit trail on, as a ratio to the same server with it off (both run
 *    with the node flags of `npm start`; BENCH_NODE_FLAGS=none for V8's defaults), measured
 *    in the same run (the two server processes alternate over `rounds`; the median of the rounds' ratios; goal
 *    >= 0.85), and the server CPU time per request of each (from /proc), the figure that noise disturbs least.
 * 2. Heap growth per `events` appends on the embedded trail, driving the trail directly (the event of a read of
 *    an example Patient, 256 appends in flight at a time, as concurrent requests make them); goal <= 100 MB.
 * 3. Chain verification speed over that trail (events/s; goal >= 200,000).
 */
import autocannon from 'autocannon';
import { median, processCpuMs, ROOT, START_FLAGS, startProcess, stop, throughput } from './support/processes';
import { buildAuditEvent } from '../src/audit/event';
import { LmdbAuditTrail } from '../src/audit/lmdb-trail';

async function readRatio(rounds: number, seconds: number, connections: number): Promise<void> {
  // Two servers alike (bench/support/serve.ts: on-disk LMDB store in a fresh DATA_DIR, quiet logs, system token,
  // the node flags of `npm start`), but for AUDIT: with it on, the trail lives in DATA_DIR/audit.
  // The flags size the young generation: an audited read holds its request's objects until the log's sync, so with
  // V8's default (16 MB) more of them survive a scavenge and are copied (BENCH_NODE_FLAGS=none: the default).
  const flags = process.env.BENCH_NODE_FLAGS === 'none' ? [] : START_FLAGS;
  const [on, off] = await Promise.all([startProcess('serve.ts', ['fhir', 'quiet'], { AUDIT: 'on' }, ROOT, flags), startProcess('serve.ts', ['fhir', 'quiet'], { AUDIT: 'off' }, ROOT, flags)]);
  const servers = [
    { label: 'audit on', run: on, rates: [] as number[], cpu: [] as number[] },
    { label: 'audit off', run: off, rates: [] as number[], cpu: [] as number[] },
  ];
  const load = async (s: (typeof servers)[number], secs: number) => {
    const url = `http://127.0.0.1:${s.run.port}${s.run.path}`;
    const cpu0 = processCpuMs(s.run.child.pid as number);
    const rate = await throughput(url, secs, connections, s.run.authorization ? { authorization: s.run.authorization } : {});
    return { rate, cpuUsPerRequest: ((processCpuMs(s.run.child.pid as number) - cpu0) * 1000) / (rate * secs) };
  };
  for (const s of servers) await load(s, 2);
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which server goes first, so a drift in the machine's load hits both alike.
    for (const s of i % 2 ? [...servers].reverse() : servers) {
      const r = await load(s, seconds);
      s.rates.push(r.rate);
      s.cpu.push(r.cpuUsPerRequest);
    }
    ratios.push((servers[0]!.rates[i] as number) / (servers[1]!.rates[i] as number));
    cpuRatios.push((servers[0]!.cpu[i] as number) / (servers[1]!.cpu[i] as number));
  }
  // Server CPU per request at one request rate for both (80% of what the audited server reached), so the
  // background work a process does per second whatever its load (V8's threads, timers) weighs alike on both.
  const rate = Math.max(50, Math.floor(0.8 * median(servers[0]!.rates)));
  const paced: number[][] = [[], []];
  for (let i = 0; i < Math.max(3, rounds); i++) {
    for (const [j, s] of servers.entries()) {
      const url = `http://127.0.0.1:${s.run.port}${s.run.path}`;
      const cpu0 = processCpuMs(s.run.child.pid as number);
      const result = await autocannon({ url, connections, duration: seconds, overallRate: rate, headers: s.run.authorization ? { authorization: s.run.authorization } : {} });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      paced[j]!.push(((processCpuMs(s.run.child.pid as number) - cpu0) * 1000) / result.requests.total);
    }
  }
  await Promise.all([stop(on), stop(off)]);
  process.stdout.write(`read-by-id, ${connections} connections, ${rounds} alternating rounds x ${seconds} s\n`);
  for (const s of servers) {
    process.stdout.write(`  ${s.label.padEnd(10)} ${median(s.rates).toFixed(0).padStart(6)} req/s (${s.rates.map((r) => r.toFixed(0)).join(', ')}); server CPU ${median(s.cpu).toFixed(0)} us/request\n`);
  }
  process.stdout.write(`  ratio on/off: ${median(ratios).toFixed(2)} (median of ${ratios.map((r) => r.toFixed(2)).join(', ')}; goal >= 0.85)\n`);
  process.stdout.write(`  server CPU per request on/off: ${median(cpuRatios).toFixed(2)} at full load\n`);
  const [pacedOn, pacedOff] = paced.map(median) as [number, number];
  process.stdout.write(`  at an equal ${rate} req/s: audit on ${pacedOn.toFixed(0)} us/request, off ${pacedOff.toFixed(0)} us/request, ratio ${(pacedOn / pacedOff).toFixed(2)}; the audit costs ${(pacedOn - pacedOff).toFixed(0)} us of server CPU per read\n`);
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
  const cpuSpeeds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const report = await trail.verify();
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    const used = process.cpuUsage(cpu);
    if (!report.ok) throw new Error(`chain broken: ${report.broken?.reason}`);
    speeds.push(report.checked / s);
    cpuSpeeds.push(report.checked / ((used.user + used.system) / 1e6));
  }
  process.stdout.write(`  chain verification: ${median(speeds).toFixed(0)} events/s (median of 3 full passes; goal >= 200,000); per CPU second: ${median(cpuSpeeds).toFixed(0)} events\n`);
  await trail.close();
}

async function main(): Promise<void> {
  const [rounds = 5, seconds = 4, connections = 32, events = 1_000_000] = process.argv.slice(2).map(Number);
  if (rounds > 0) await readRatio(rounds, seconds, connections);
  if (events > 0) await heapAndVerify(events);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
