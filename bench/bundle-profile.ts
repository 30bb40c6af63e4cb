/**
 * Server CPU per resource of patient transactions (issue 8's bundle-ingest goal), routed in process: the server as
 * `createServer` builds it (src/compose.ts) on a fresh on-disk store, access control and the audit trail ON as in
 * production, each Bundle parsed from its JSON text and routed with a verified system token, as the HTTP edge does.
 * Prints the CPU µs per resource of the process (process.cpuUsage: it runs only the server) and of its main thread
 * (/proc; the single-thread bound: 4,000 resources/s needs <= 250 µs there), and the wall rate of one uploader. With PROFILE=<file>, a CPU profile of the measured Bundles only (not start-up or warm-up) goes to
 * <file> (open it in Chrome DevTools or VS Code). Bundles are sent with `Prefer: return=minimal` as bench/bundle-ingest.ts
 * does; PREFER=representation sends none (the default answer carries every stored resource):
 *   PROFILE=/tmp/ingest.cpuprofile node --min-semi-space-size=64 --max-semi-space-size=64 --import tsx bench/bundle-profile.ts [patients=40] [resourcesPerPatient=300]
 * With SURVIVORS=<file> instead, a sampled heap profile (.heapprofile, DevTools' Memory tab) of the measured Bundles
 * without the objects young-generation collections free: by allocation site, what lived through at least one
 * scavenge (and so was copied, and promoted if it lived through two). SURVIVORS_ALL=1 samples every allocation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mainThreadCpuSeconds } from './support/cpu';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeAuthentication } from '../src/access/edge';
import { systemTokenFor } from '../src/access/local-key';
import { loadConfig } from '../src/config/config';
import { createServer } from '../src/compose';
import { silentLogger } from '../src/http/logger';
import type { FhirRequest } from '../src/fhir/types';
import { patientTransaction, sharedBatch } from './bundles/generate';

async function main(): Promise<void> {
  const [patients = 40, perPatient = 300] = process.argv.slice(2).map(Number);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-bundle-profile-'));
  const config = loadConfig({ DATA_DIR: dataDir, MONGODB_URI: '' });
  const server = await createServer(config, { logger: silentLogger });
  try {
    const authenticate = await edgeAuthentication(config, silentLogger);
    const authorization = `Bearer ${await systemTokenFor(dataDir, config.baseUrl)}`;
    const route = async (text: string): Promise<number> => {
      const token = await authenticate(authorization);
      const req: FhirRequest = { method: 'POST', path: [], query: [], body: JSON.parse(text), contentType: 'application/fhir+json', prefer: process.env.PREFER === 'representation' ? {} : { return: 'minimal' }, access: { token, clientAddress: '127.0.0.1', decidedBy: new Set() } };
      const res = await server.router.route(req);
      if (res.status !== 200) throw new Error(`answered ${res.status}: ${JSON.stringify(res.resource).slice(0, 600)}`);
      return (res.resource as { entry?: unknown[] }).entry?.length ?? 0;
    };
    await route(JSON.stringify(sharedBatch()));
    for (let i = 0; i < 4; i++) await route(JSON.stringify(patientTransaction(i, perPatient, undefined, 0)));
    const bodies = Array.from({ length: patients }, (_, i) => JSON.stringify(patientTransaction(i, perPatient, undefined, 1)));
    const profiler = process.env.PROFILE || process.env.SURVIVORS ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      if (process.env.SURVIVORS) {
        await profiler.post('HeapProfiler.enable');
        await profiler.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.SURVIVORS_ALL === '1' } as never);
      } else {
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
    }
    let resources = 0;
    const cpu = process.cpuUsage();
    const mainBefore = mainThreadCpuSeconds(process.pid);
    const started = performance.now();
    for (const body of bodies) resources += await route(body);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const main = ((mainThreadCpuSeconds(process.pid) - mainBefore) * 1e6) / resources;
    if (profiler && process.env.SURVIVORS) {
      const { profile } = await profiler.post('HeapProfiler.stopSampling');
      writeFileSync(process.env.SURVIVORS, JSON.stringify(profile));
      profiler.disconnect();
    } else if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(process.env.PROFILE as string, JSON.stringify(profile));
      profiler.disconnect();
    }
    const micros = (used.user + used.system) / resources;
    process.stdout.write(
      `${patients} patient transactions, ${resources} resources in process: ${micros.toFixed(0)} µs server CPU per resource, ${main.toFixed(0)} µs on the main thread ` +
        `(${((used.user + used.system) / 1e6 / seconds * 100).toFixed(0)}% of a core; ${(1e6 / micros).toFixed(0)} resources per CPU-second); ` +
        `${(resources / seconds).toFixed(0)} resources/s wall, one uploader\n`,
    );
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
