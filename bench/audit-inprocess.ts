/**
 * Audit trail cost in process (issue 11), free of HTTP and of other processes' noise:
 *   node --import tsx bench/audit-inprocess.ts [reads=20000] [inFlight=32] [steps=1]   (steps 0: the reads only, e.g. to profile them)
 * 1. The per-event work on the main thread, step by step (median µs of 5 passes over 20,000 events): building the
 *    AuditEvent of a read, its canonical text (sealed: id and chain extension added), the frame (UTF-8 bytes,
 *    SHA-256 chain hash over them, CRC-32), and its index keys.
 * 2. CPU per routed read-by-id (process.cpuUsage, all threads: the log's writes and syncs run on libuv's pool)
 *    with the audit trail on and off: two servers as createServer builds them (on-disk LMDB store, access control
 *    on, system token), `inFlight` reads at a time, the two alternating over 5 rounds; the median difference is
 *    what the audit costs per read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeAuthentication } from '../src/access/edge';
import { systemTokenFor } from '../src/access/local-key';
import { sealedText } from '../src/audit/chain';
import { buildAuditEvent, type AuditedCall } from '../src/audit/event';
import { postingPrefixesOf } from '../src/audit/postings';
import { encodeFrame } from '../src/audit/segment-log';
import { GENESIS } from '../src/audit/chain';
import { loadConfig } from '../src/config/config';
import { createServer } from '../src/compose';
import { silentLogger } from '../src/http/logger';
import type { FhirRequest } from '../src/fhir/types';
import { mainThreadCpuSeconds } from './support/cpu';
import { median } from './support/processes';

function perEventSteps(n: number): void {
  // One token object for every call, as the server verifies a token once per Authorization header and reuses it.
  const token = { subject: 'u1', fhirUser: 'Practitioner/u1', clientId: 'app', purposeOfUse: [], scopes: { resources: [] } } as never;
  const call = (): AuditedCall => ({
    req: { method: 'GET', path: ['Patient', 'example'], query: [], prefer: {}, access: { token, decidedBy: new Set(['implicit:permit']), clientAddress: '127.0.0.1' } },
    interaction: 'read',
    params: { type: 'Patient', id: 'example' },
    result: { status: 200, resource: { resourceType: 'Patient', id: 'example', meta: { versionId: '1' } } },
    recorded: new Date().toISOString(),
  });
  const ctx = { patientsOf: () => ['Patient/example'], serverName: 'fhir-r4-server' };
  const steps: Record<string, number[]> = { build: [], 'canonical text': [], 'frame (bytes, SHA-256, CRC)': [], 'index keys': [], total: [] };
  const time = (label: string, run: () => void): void => {
    const t = process.cpuUsage();
    run();
    const u = process.cpuUsage(t);
    (steps[label] as number[]).push((u.user + u.system) / n);
  };
  for (let pass = 0; pass < 6; pass++) {
    const calls = Array.from({ length: n }, call);
    let events: ReturnType<typeof buildAuditEvent>[] = [];
    let texts: string[] = [];
    time('build', () => (events = calls.map((c) => buildAuditEvent(c, ctx))));
    time('canonical text', () => (texts = events.map((e, i) => sealedText(e, i + 1))));
    time('frame (bytes, SHA-256, CRC)', () => texts.forEach((t, i) => encodeFrame(i + 1, GENESIS, t)));
    time('index keys', () => events.forEach((e) => postingPrefixesOf(e)));
    if (pass === 0) for (const k of Object.keys(steps)) (steps[k] as number[]).length = 0;
  }
  const totals = (steps.build as number[]).map((_, i) => ['build', 'canonical text', 'frame (bytes, SHA-256, CRC)', 'index keys'].reduce((s, k) => s + (steps[k] as number[])[i]!, 0));
  steps.total = totals;
  process.stdout.write(`per event, main thread (median of 5 passes over ${n} events):\n`);
  for (const [k, v] of Object.entries(steps)) process.stdout.write(`  ${k.padEnd(28)} ${median(v).toFixed(1)} µs\n`);
}

async function readCost(reads: number, inFlight: number): Promise<void> {
  const servers = await Promise.all(
    (['on', 'off'] as const).map(async (audit) => {
      const dataDir = mkdtempSync(join(tmpdir(), `bench-audit-${audit}-`));
      const config = loadConfig({ DATA_DIR: dataDir, MONGODB_URI: '', AUDIT: audit });
      const server = await createServer(config, { logger: silentLogger });
      const authenticate = await edgeAuthentication(config, silentLogger);
      const authorization = `Bearer ${await systemTokenFor(dataDir, config.baseUrl)}`;
      const token = await authenticate(authorization);
      const request = (method: FhirRequest['method'], body?: unknown): FhirRequest => ({ method, path: ['Patient', 'example'], query: [], prefer: {}, ...(body ? { body, contentType: 'application/fhir+json' } : {}), access: { token, clientAddress: '127.0.0.1', decidedBy: new Set() } });
      const put = await server.router.route(request('PUT', { resourceType: 'Patient', id: 'example', name: [{ family: 'Chalmers', given: ['Peter'] }], gender: 'male' }));
      if (put.status !== 201) throw new Error(`PUT answered ${put.status}`);
      const run = async (n: number): Promise<number> => {
        const cpu = process.cpuUsage();
        const main0 = mainThreadCpuSeconds(process.pid);
        let next = 0;
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next++ < n) {
              const res = await server.router.route(request('GET'));
              if (res.status !== 200) throw new Error(`read answered ${res.status}`);
            }
          }),
        );
        const used = process.cpuUsage(cpu);
        mainCost.push(((mainThreadCpuSeconds(process.pid) - main0) * 1e6) / n);
        return (used.user + used.system) / n;
      };
      const mainCost: number[] = [];
      return { audit, server, dataDir, run, cost: [] as number[], mainCost };
    }),
  );
  for (const s of servers) await s.run(2000);
  for (const s of servers) s.mainCost.length = 0;
  for (let round = 0; round < 5; round++) for (const s of round % 2 ? [...servers].reverse() : servers) s.cost.push(await s.run(reads));
  const [on, off] = servers as [(typeof servers)[number], (typeof servers)[number]];
  const diffs = on.cost.map((c, i) => c - (off.cost[i] as number));
  process.stdout.write(`routed read-by-id in process, ${inFlight} in flight, 5 alternating rounds of ${reads}:\n`);
  for (const s of [on, off]) {
    process.stdout.write(`  audit ${s.audit.padEnd(3)} ${median(s.cost).toFixed(0)} µs CPU per read (${s.cost.map((c) => c.toFixed(0)).join(', ')}), ${median(s.mainCost).toFixed(0)} µs of it on the main thread\n`);
  }
  process.stdout.write(`  the audit costs ${median(diffs).toFixed(0)} µs CPU per read (median of the rounds' differences)\n`);
  for (const s of servers) {
    await s.server.close();
    rmSync(s.dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [reads = 20000, inFlight = 32, steps = 1] = process.argv.slice(2).map(Number);
  if (steps) perEventSteps(20000);
  await readCost(reads, inFlight);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
