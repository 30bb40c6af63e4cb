/**
 * Bulk Data export throughput (issue 8): the real server on the cached synthetic population
 * (bench/support/population.ts, ~100 resources per patient, the same data directory bench/search-latency.ts uses),
 * a system-level `$export` kicked off over HTTP, the status polled every 50 ms, and every NDJSON file of the
 * manifest downloaded as a stream. Prints per run: resources/s from kick-off to the last NDJSON byte received,
 * the time to the manifest, and the server's peak RSS during the export above its RSS just before it
 * (sampled from /proc every 20 ms). Goals: >= 20,000 resources/s at 1,000,000 resources; peak RSS <= +200 MB.
 * Usage: npx tsx bench/export.ts [patients=1000] [runs=3]   (1000 patients = 100,000 resources; 10000 = 1,000,000)
 *   --in-process: the population is written straight into an in-memory embedded store (bench/support/seed-population.ts,
 *   minutes instead of the half hour of populating and the minutes of loading a 1M data directory), served by the
 *   same app on 127.0.0.1 in this process, and exported over HTTP as above; RSS is this process's. Run it with the
 *   server's node flags: node --max-old-space-size=20000 --min-semi-space-size=64 --max-semi-space-size=64
 *   --import tsx bench/export.ts 10000 1 --in-process
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { createServer } from '../src/compose';
import { silentLogger } from '../src/http/logger';
import { createStore } from '../src/storage/create-store';
import { startPopulatedServer } from './support/populated-server';
import { seedPopulation } from './support/seed-population';
import { median } from './support/stats';

const PORT = 18520;

interface Manifest {
  output: Array<{ type: string; url: string; count: number }>;
}

const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024;
};

interface Target {
  pid: number;
  stop(): Promise<void>;
}

/** The real server process on the cached on-disk population. */
async function serverProcess(patients: number, exportDir: string): Promise<Target> {
  const child = await startPopulatedServer(patients, PORT, { EXPORT_DIR: exportDir });
  return { pid: child.pid as number, stop: async () => void child.kill('SIGTERM') };
}

/** The same app in this process, on an in-memory store seeded directly. */
async function inProcess(patients: number, exportDir: string): Promise<Target> {
  const started = Date.now();
  const store = await createStore({});
  const written = await seedPopulation(store, patients, `http://127.0.0.1:${PORT}/fhir`);
  const server = await createServer(loadConfig({ PORT: String(PORT), EXPORT_DIR: exportDir }), { store, logger: silentLogger });
  const http = await new Promise<import('node:http').Server>((resolve) => {
    const srv = server.app.listen(PORT, '127.0.0.1', () => resolve(srv));
  });
  process.stdout.write(`${written} resources seeded and indexed in process in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return {
    pid: process.pid,
    stop: async () => {
      http.closeAllConnections();
      http.close();
      await server.close();
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [patients = 1000, runs = 3] = args.filter((a) => !a.startsWith('--')).map(Number);
  const exportDir = mkdtempSync(join(tmpdir(), 'bench-export-'));
  const target = args.includes('--in-process') ? await inProcess(patients, exportDir) : await serverProcess(patients, exportDir);
  const base = `http://127.0.0.1:${PORT}`;
  const rates: number[] = [];
  const peaks: number[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const before = rssMb(target.pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(target.pid))), 20);
      const t0 = process.hrtime.bigint();
      const kick = await fetch(`${base}/fhir/$export`, { headers: { Prefer: 'respond-async', Accept: 'application/fhir+json' } });
      if (kick.status !== 202) throw new Error(`kick-off: ${kick.status} ${await kick.text()}`);
      const status = new URL(kick.headers.get('content-location') as string).pathname;
      let manifest: Manifest | undefined;
      while (!manifest) {
        const res = await fetch(base + status);
        if (res.status === 200) manifest = (await res.json()) as Manifest;
        else if (res.status === 202) await new Promise((resolve) => setTimeout(resolve, 50));
        else throw new Error(`status: ${res.status} ${await res.text()}`);
      }
      const tManifest = process.hrtime.bigint();
      let lines = 0;
      let bytes = 0;
      for (const file of manifest.output) {
        const res = await fetch(base + new URL(file.url).pathname, { headers: { Accept: 'application/fhir+ndjson' } });
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          bytes += chunk.length;
          for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
        }
      }
      const t1 = process.hrtime.bigint();
      clearInterval(sampler);
      const expected = manifest.output.reduce((n, f) => n + f.count, 0);
      if (lines !== expected) throw new Error(`downloaded ${lines} lines, manifest counts ${expected}`);
      const seconds = Number(t1 - t0) / 1e9;
      const rate = lines / seconds;
      rates.push(rate);
      peaks.push(peak - before);
      process.stdout.write(
        `run ${run}: ${lines} resources (${(bytes / 1024 / 1024).toFixed(0)} MB NDJSON) in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} resources/s ` +
          `(manifest after ${(Number(tManifest - t0) / 1e9).toFixed(2)} s); RSS before ${before.toFixed(0)} MB, peak +${(peak - before).toFixed(0)} MB\n`,
      );
      await fetch(base + status, { method: 'DELETE' });
    }
    process.stdout.write(`median ${median(rates).toFixed(0)} resources/s, peak RSS above the pre-export RSS: median +${median(peaks).toFixed(0)} MB, max +${Math.max(...peaks).toFixed(0)} MB\n`);
  } finally {
    await target.stop();
    rmSync(exportDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
