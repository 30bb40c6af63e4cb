/**
 * Bundle ingest (issue 8): patient transaction Bundles from bench/bundles/generate.ts POSTed to a real server on an
 * on-disk embedded store (validation, indexing and fsync on, as in production), by 4 concurrent uploaders, after
 * the shared Practitioner/Organization/Location batch. Prints resources/s per round and the median (goal >= 4,000/s
 * on the 2-core benchmark machine) and the server's CPU per resource (from /proc: the server is one Node thread, so
 * 4,000/s needs <= 250 µs per resource on its main thread, which the script also prints). The server is src/main.ts started as `npm start` does, with access control
 * and the audit trail on; the uploaders send the system token. Bodies are generated before the clock starts; the
 * uploaders run in this process.
 * Usage: npx tsx bench/bundle-ingest.ts [rounds=3] [patientsPerRound=24] [resourcesPerPatient=300] [uploaders=4] [--cpu-prof]
 *   --cpu-prof: the server writes a V8 CPU profile of its main thread to .bench-data/profiles/ when it stops.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemTokenFor } from '../src/access/local-key';
import { patientTransaction, sharedBatch } from './bundles/generate';
import { cpuSeconds, mainThreadCpuSeconds } from './support/cpu';
import { freePort, median, ROOT, START_FLAGS, startServerProcess } from './support/processes';

let authorization = '';

async function post(base: string, body: string): Promise<{ status: number; json: { entry?: Array<{ response: { status: string } }> } }> {
  const res = await fetch(base, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal', Authorization: authorization }, body });
  return { status: res.status, json: (await res.json()) as { entry?: Array<{ response: { status: string } }> } };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [rounds = 3, patients = 24, perPatient = 300, uploaders = 4] = args.filter((a) => !a.startsWith('--')).map(Number);
  const profileDir = args.includes('--cpu-prof') ? join(ROOT, '.bench-data', 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // The real server (src/main.ts with the node flags of `npm start`) on a fresh on-disk data directory.
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const port = await freePort();
  const server = await startServerProcess([...START_FLAGS, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', 'src/main.ts'], { DATA_DIR: dataDir, PORT: String(port), MONGODB_URI: '' });
  const base = `http://127.0.0.1:${port}/fhir`;
  try {
    authorization = `Bearer ${await systemTokenFor(dataDir, base)}`;
    const shared = await post(base, JSON.stringify(sharedBatch()));
    const failed = (shared.json.entry ?? []).filter((e) => !/^20[01]/.test(e.response.status));
    if (shared.status !== 200 || failed.length) throw new Error(`shared batch: ${shared.status}, ${failed.length} failed entries`);
    // Warm-up: a few patients through the same path.
    for (let i = 0; i < 4; i++) await post(base, JSON.stringify(patientTransaction(i, perPatient, undefined, 0)));
    const rates: number[] = [];
    const perCpuSecond: number[] = [];
    const mainMicros: number[] = [];
    let resourcesPerBundle = 0;
    for (let round = 1; round <= rounds; round++) {
      const bodies = Array.from({ length: patients }, (_, i) => {
        const bundle = patientTransaction(i, perPatient, undefined, round);
        resourcesPerBundle = (bundle.entry as unknown[]).length;
        return { body: JSON.stringify(bundle), resources: (bundle.entry as unknown[]).length };
      });
      let next = 0;
      let resources = 0;
      const started = performance.now();
      const cpuBefore = cpuSeconds(server.pid);
      const mainBefore = mainThreadCpuSeconds(server.pid);
      const clientBefore = process.cpuUsage();
      await Promise.all(
        Array.from({ length: uploaders }, async () => {
          while (next < bodies.length) {
            const { body, resources: n } = bodies[next++] as { body: string; resources: number };
            const res = await post(base, body);
            if (res.status !== 200) throw new Error(`transaction answered ${res.status}: ${JSON.stringify(res.json).slice(0, 500)}`);
            resources += n;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpu = cpuSeconds(server.pid) - cpuBefore;
      const main = mainThreadCpuSeconds(server.pid) - mainBefore;
      const clientUsage = process.cpuUsage(clientBefore);
      const client = (clientUsage.user + clientUsage.system) / 1e6;
      mainMicros.push((main * 1e6) / resources);
      rates.push(resources / seconds);
      perCpuSecond.push(resources / cpu);
      process.stdout.write(
        `  round ${round}: ${resources} resources in ${seconds.toFixed(2)} s = ${(resources / seconds).toFixed(0)} resources/s; ` +
          `server CPU ${cpu.toFixed(2)} s = ${(resources / cpu).toFixed(0)} resources per CPU-second (${((cpu * 1e6) / resources).toFixed(0)} µs per resource, ${((main * 1e6) / resources).toFixed(0)} µs on the main thread); uploaders' CPU ${((client * 1e6) / resources).toFixed(0)} µs per resource; ` +
          `load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`,
      );
    }
    process.stdout.write(
      `bundle ingest, on-disk embedded store, ${uploaders} uploaders, ${patients} patient transactions of ${resourcesPerBundle} resources per round: ` +
        `${median(rates).toFixed(0)} resources/s (median of ${rounds}; goal >= 4000); ${median(perCpuSecond).toFixed(0)} resources per server CPU-second ` +
        `(${(1e6 / median(perCpuSecond)).toFixed(0)} µs per resource); main thread ${median(mainMicros).toFixed(0)} µs per resource (goal <= 250)\n`,
    );
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    // A profiled server must stop on its own to write the profile.
    server.kill(profileDir ? 'SIGTERM' : 'SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    if (profileDir) process.stdout.write(`CPU profile in ${profileDir}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
