/**
 * Added latency of a write with 100 active Subscriptions whose criteria do not match it, as a ratio to the same
 * write with none active, measured in the same run on one on-disk server (every create durable before its 201).
 * The subscriptions select the written type (Observation?code=…|SUB-i&subject=Patient/1), so every write is
 * tested against all 100. Rounds alternate the two phases (none / 100 active, then 100 active / none) so that
 * drift on the shared machine falls on both; the figure is the median over rounds of median(100) / median(none),
 * and beside it the ratio of the medians of all samples of each phase.
 * Alongside, the server process's CPU time per write (utime + stime from /proc, Linux) in each phase: less
 * sensitive than latency to other load on the machine, and it includes the feed's work after the response.
 * Last, in process on an in-memory store, the CPU time per write with the feed running as in the server, 100
 * active vs none (no fsync wait to hide the feed's work in).
 * A receiver on 127.0.0.1 counts notifications: none during the phases, one for a matching write at the end.
 * Usage: npx tsx bench/subscriptions.ts [rounds=20] [writes=100]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeAuthentication } from '../src/access/edge';
import { systemTokenFor } from '../src/access/local-key';
import { createServer } from 'node:http';
import { loadConfig } from '../src/config/config';
import { createServer as createFhirServer } from '../src/compose';
import { silentLogger } from '../src/http/logger';
import { createStore } from '../src/storage/create-store';
import { median, startProcess, stop } from './support/processes';
import { percentile } from './support/stats';

const SUBSCRIPTIONS = 100;
const json: Record<string, string> = { 'content-type': 'application/fhir+json' };

/** CPU time (ms) the process has used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const observation = (code: string): string =>
  JSON.stringify({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: 'Patient/1' } });

async function main(): Promise<void> {
  const [rounds = 20, writes = 100] = process.argv.slice(2).map(Number);
  let notified = 0;
  const receiver = createServer((req, res) => {
    notified++;
    req.resume();
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const server = await startProcess('serve.ts', ['fhir']);
  const base = `http://127.0.0.1:${server.port}/fhir`;
  Object.assign(json, server.authorization ? { authorization: server.authorization } : {});

  const setSubscriptions = async (status: 'active' | 'off'): Promise<void> => {
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const body = {
        resourceType: 'Subscription',
        id: `bench-${i}`,
        status,
        reason: 'benchmark',
        criteria: `Observation?code=http://loinc.org|SUB-${i}&subject=Patient/1`,
        channel: { type: 'rest-hook', endpoint },
      };
      const res = await fetch(`${base}/Subscription/bench-${i}`, { method: 'PUT', headers: json, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`PUT Subscription: ${res.status} ${await res.text()}`);
    }
    // Let the server register (or drop) the 100 before the phase starts, so that work is not counted in it.
    await new Promise((r) => setTimeout(r, 1000));
  };
  const writeLatencies = async (count: number): Promise<number[]> => {
    const body = observation('WRITE');
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      const res = await fetch(`${base}/Observation`, { method: 'POST', headers: { ...json, prefer: 'return=minimal' }, body });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`POST Observation: ${res.status}`);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return samples.sort((a, b) => a - b);
  };

  await writeLatencies(200);
  process.stdout.write(`write latency (POST /fhir/Observation, durable, on-disk embedded store), ${SUBSCRIPTIONS} non-matching subscriptions vs none\n`);
  process.stdout.write(`${rounds} rounds x ${writes} sequential writes per phase; ms median / p95\n`);
  const ratios: number[] = [];
  const cpuNone: number[] = [];
  const allNone: number[] = [];
  const allActive: number[] = [];
  const cpuActive: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const phases: Array<'off' | 'active'> = r % 2 === 0 ? ['off', 'active'] : ['active', 'off'];
    const result: Record<string, number[]> = {};
    const cpu: Record<string, number> = {};
    for (const phase of phases) {
      await setSubscriptions(phase);
      const before = cpuMs(server.child.pid as number);
      result[phase] = await writeLatencies(writes);
      await new Promise((r) => setTimeout(r, 50));
      cpu[phase] = (cpuMs(server.child.pid as number) - before) / writes;
    }
    allNone.push(...(result.off as number[]));
    allActive.push(...(result.active as number[]));
    cpuNone.push(cpu.off as number);
    cpuActive.push(cpu.active as number);
    const none = result.off as number[];
    const active = result.active as number[];
    const ratio = median(active) / median(none);
    ratios.push(ratio);
    process.stdout.write(
      `  round ${r + 1}: none ${median(none).toFixed(3)} / ${percentile(none, 95).toFixed(3)}   100 active ${median(active).toFixed(3)} / ${percentile(active, 95).toFixed(3)}   ratio ${ratio.toFixed(3)}   cpu/write ${(cpu.off as number).toFixed(2)} / ${(cpu.active as number).toFixed(2)} ms\n`,
    );
  }
  process.stdout.write(
    `latency ratio: median of rounds ${median(ratios).toFixed(3)}, pooled ${(median(allActive) / median(allNone)).toFixed(3)} (${median(allActive).toFixed(3)} / ${median(allNone).toFixed(3)} ms)   notifications during the phases: ${notified}\n`,
  );
  const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
  process.stdout.write(`server CPU per write: none ${(sum(cpuNone) / rounds).toFixed(3)} ms, 100 active ${(sum(cpuActive) / rounds).toFixed(3)} ms, ratio ${(sum(cpuActive) / sum(cpuNone)).toFixed(3)}\n`);

  await setSubscriptions('active');
  await fetch(`${base}/Observation`, { method: 'POST', headers: json, body: observation('SUB-7') });
  const deadline = Date.now() + 5000;
  while (notified === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  process.stdout.write(`check: a matching write was notified ${notified} time(s)\n`);
  await stop(server);
  await feedCost(endpoint, rounds);
  receiver.close();
}

/**
 * In process on an in-memory store (no fsync, no HTTP: the write is all CPU), CPU time per write with the feed
 * running as in the server (nudged after each commit, matching after the response), 100 active vs none.
 */
async function feedCost(endpoint: string, rounds: number): Promise<void> {
  // The data directory holds only the local signing key (and the audit trail); the store is in memory.
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-subscriptions-'));
  const config = loadConfig({ DATA_DIR: dataDir, MONGODB_URI: '' });
  const parts = await createFhirServer(config, { store: await createStore({}), logger: silentLogger });
  const token = await (await edgeAuthentication(config, silentLogger))(`Bearer ${await systemTokenFor(dataDir, config.baseUrl)}`);
  const access = () => ({ token, clientAddress: '127.0.0.1', decidedBy: new Set<string>() });
  const body = JSON.parse(observation('WRITE')) as Record<string, unknown>;
  const cpuPerWrite = async (count: number): Promise<number> => {
    await parts.subscriptions.settle();
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      const res = await parts.router.route({ method: 'POST', path: ['Observation'], query: [], body, prefer: { return: 'minimal' }, access: access() });
      if (res.status !== 201) throw new Error(`create answered ${res.status}`);
    }
    await new Promise((r) => setTimeout(r, 10));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  const toggle = async (status: 'active' | 'off'): Promise<void> => {
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const sub = { resourceType: 'Subscription', id: `bench-${i}`, status, reason: 'benchmark', criteria: `Observation?code=http://loinc.org|SUB-${i}&subject=Patient/1`, channel: { type: 'rest-hook', endpoint } };
      await parts.router.route({ method: 'PUT', path: ['Subscription', sub.id], query: [], body: sub, prefer: { return: 'minimal' }, access: access() });
    }
    await parts.subscriptions.settle();
  };
  await cpuPerWrite(2000);
  const none: number[] = [];
  const active: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const phase of r % 2 === 0 ? (['off', 'active'] as const) : (['active', 'off'] as const)) {
      await toggle(phase);
      (phase === 'off' ? none : active).push(await cpuPerWrite(1000));
    }
  }
  process.stdout.write(
    `in process (in-memory store), CPU µs per write, median of ${rounds} x 1000: none ${median(none).toFixed(1)}, 100 active ${median(active).toFixed(1)}, ratio ${(median(active) / median(none)).toFixed(3)}\n`,
  );
  await parts.close();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
