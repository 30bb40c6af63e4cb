/**
 * Bulk Data export throughput (issue 8): the real server (src/main.ts) in its own process on an on-disk LMDB store
 * of the synthetic population (bench/support/population.ts, ~100 resources per patient, built in process through
 * the storage port by bench/support/build-population.ts and cached in .bench-data/population-<patients>), with access
 * control on (the system token signed with the data directory's local key). Per run: a system-level `$export`
 * kicked off over HTTP, the status polled every 50 ms, and every NDJSON file of the manifest downloaded as a
 * stream, its lines counted against the manifest's count. Prints resources/s from kick-off to the last NDJSON byte
 * received, the time to the manifest, the server's CPU time per exported resource (/proc), and its peak RSS during
 * the export above its RSS just before it (sampled every 20 ms): VmRSS (what the issue's goal names) and its
 * anonymous part (heap and buffers; the rest is LMDB's file-backed memory map, i.e. page cache of data read),
 * also up to the manifest (the export itself; the rest of the run is the download of the files).
 * Goals: >= 20,000 resources/s at 1,000,000 resources; peak RSS <= +200 MB.
 * Usage: npx tsx bench/export.ts [patients=1000] [runs=3] [--cpu-prof] [--heap]
 *   1000 patients = 100,000 resources; 10000 = 1,000,000 (seeding it takes ~10-15 min the first time, ~8 GB on disk).
 *   --cpu-prof: the server writes a V8 CPU profile to .bench-data/profiles/ when it stops.
 *   --heap: the server's V8 heap is read from its /metrics (METRICS_PORT) every 100 ms during each run, and the
 *     committed size of the heap and of its young and old generations is printed before the run and at its peak.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemTokenFor } from '../src/access/local-key';
import { cpuSeconds } from './support/cpu';
import { ROOT, START_FLAGS, startServerProcess } from './support/processes';
import { ensurePopulation } from './support/populated-server';
import { median } from './support/stats';

const PORT = 18520;
const BASE = `http://127.0.0.1:${PORT}`;
const METRICS_PORT = 18521;

/** Committed V8 heap, in MB: all spaces, the young generation (new space) and the old one (old + large objects). */
interface Heap {
  total: number;
  young: number;
  old: number;
}

/** The server's committed heap spaces from its /metrics (prom-client's nodejs_heap_space_size_total_bytes). */
async function heap(): Promise<Heap> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  const spaces = new Map([...text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2]) / 2 ** 20]));
  const of = (...names: string[]): number => names.reduce((sum, name) => sum + (spaces.get(name) ?? 0), 0);
  return { total: of(...spaces.keys()), young: of('new', 'new_large_object'), old: of('old', 'large_object') };
}

const heapText = (h: Heap): string => `${h.total.toFixed(0)} MB (young ${h.young.toFixed(0)}, old ${h.old.toFixed(0)})`;

interface Manifest {
  output: Array<{ type: string; url: string; count: number }>;
}

/** VmRSS and RssAnon of a process, in MB. */
function rss(pid: number): { total: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { total: kb('VmRSS'), anon: kb('RssAnon') };
}

/** Newlines in a downloaded file, read as a stream. */
async function countLines(res: Response): Promise<{ lines: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
  }
  return { lines, bytes };
}

interface RunResult {
  rate: number;
  peak: number;
  peakAnon: number;
  cpuPerResource: number;
}

async function exportOnce(run: number, pid: number, authorization: string, heapProbe: boolean): Promise<RunResult> {
  const headers = { Authorization: authorization };
  const before = rss(pid);
  const peak = { ...before };
  const sampler = setInterval(() => {
    const now = rss(pid);
    peak.total = Math.max(peak.total, now.total);
    peak.anon = Math.max(peak.anon, now.anon);
  }, 20);
  const heapBefore = heapProbe ? await heap() : undefined;
  const heapPeak = heapBefore && { ...heapBefore };
  const heapSampler =
    heapPeak &&
    setInterval(() => {
      void heap().then((now) => {
        for (const key of ['total', 'young', 'old'] as const) heapPeak[key] = Math.max(heapPeak[key], now[key]);
      });
    }, 100);
  const cpu0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  const kick = await fetch(`${BASE}/fhir/$export`, { headers: { ...headers, Prefer: 'respond-async', Accept: 'application/fhir+json' } });
  if (kick.status !== 202) throw new Error(`kick-off: ${kick.status} ${await kick.text()}`);
  const status = new URL(kick.headers.get('content-location') as string).pathname;
  let manifest: Manifest | undefined;
  while (!manifest) {
    const res = await fetch(BASE + status, { headers });
    if (res.status === 200) manifest = (await res.json()) as Manifest;
    else if (res.status === 202) await new Promise((resolve) => setTimeout(resolve, 50));
    else throw new Error(`status: ${res.status} ${await res.text()}`);
  }
  const tManifest = process.hrtime.bigint();
  const anonByManifest = peak.anon - before.anon;
  const cpuManifest = cpuSeconds(pid);
  let lines = 0;
  let bytes = 0;
  for (const file of manifest.output) {
    const res = await fetch(BASE + new URL(file.url).pathname, { headers: { ...headers, Accept: 'application/fhir+ndjson' } });
    if (res.status !== 200) throw new Error(`${file.url}: ${res.status} ${await res.text()}`);
    const got = await countLines(res);
    if (got.lines !== file.count) throw new Error(`${file.type}: downloaded ${got.lines} lines, the manifest counts ${file.count}`);
    lines += got.lines;
    bytes += got.bytes;
  }
  const t1 = process.hrtime.bigint();
  clearInterval(sampler);
  if (heapSampler) clearInterval(heapSampler);
  const cpu1 = cpuSeconds(pid);
  const seconds = Number(t1 - t0) / 1e9;
  const result = { rate: lines / seconds, peak: peak.total - before.total, peakAnon: peak.anon - before.anon, cpuPerResource: ((cpu1 - cpu0) * 1e6) / lines };
  process.stdout.write(
    `run ${run}: ${lines} resources (${(bytes / 1024 / 1024).toFixed(0)} MB NDJSON, ${manifest.output.length} files) in ${seconds.toFixed(2)} s = ${result.rate.toFixed(0)} resources/s ` +
      `(manifest after ${(Number(tManifest - t0) / 1e9).toFixed(2)} s); server CPU ${(cpu1 - cpu0).toFixed(1)} s = ${result.cpuPerResource.toFixed(0)} µs/resource ` +
      `(${(((cpuManifest - cpu0) * 1e6) / lines).toFixed(0)} to the manifest); RSS before ${before.total.toFixed(0)} MB (anon ${before.anon.toFixed(0)}), ` +
      `peak +${result.peak.toFixed(0)} MB (anon +${result.peakAnon.toFixed(0)}, +${anonByManifest.toFixed(0)} by the manifest)` +
      (heapBefore && heapPeak ? `; V8 heap before ${heapText(heapBefore)}, peak ${heapText(heapPeak)}` : '') +
      '\n',
  );
  await fetch(BASE + status, { method: 'DELETE', headers });
  return result;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [patients = 1000, runs = 3] = args.filter((a) => !a.startsWith('--')).map(Number);
  const profile = args.includes('--cpu-prof');
  const heapProbe = args.includes('--heap');
  const dataDir = ensurePopulation(patients);
  const exportDir = mkdtempSync(join(tmpdir(), 'bench-export-'));
  const profileDir = join(ROOT, '.bench-data', 'profiles');
  if (profile) mkdirSync(profileDir, { recursive: true });
  const started = Date.now();
  const server = await startServerProcess([...START_FLAGS, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', join(ROOT, 'src/main.ts')], {
    DATA_DIR: dataDir,
    PORT: String(PORT),
    EXPORT_DIR: exportDir,
    ...(heapProbe ? { METRICS_PORT: String(METRICS_PORT) } : {}),
  });
  const pid = server.pid as number;
  process.stdout.write(`server (pid ${pid}) up in ${Date.now() - started} ms on ${patients * 100} resources; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
  const authorization = `Bearer ${await systemTokenFor(dataDir, `${BASE}/fhir`)}`;
  const results: RunResult[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      results.push(await exportOnce(run, pid, authorization, heapProbe));
    }
    const of = (key: keyof RunResult): number => median(results.map((r) => r[key]));
    process.stdout.write(
      `median ${of('rate').toFixed(0)} resources/s kick-off to last byte, server CPU ${of('cpuPerResource').toFixed(0)} µs/resource; ` +
        `peak RSS above the pre-export RSS: median +${of('peak').toFixed(0)} MB, max +${Math.max(...results.map((r) => r.peak)).toFixed(0)} MB ` +
        `(anonymous: median +${of('peakAnon').toFixed(0)} MB, max +${Math.max(...results.map((r) => r.peakAnon)).toFixed(0)} MB); load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
    );
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    rmSync(exportDir, { recursive: true, force: true });
    if (profile) process.stdout.write(`CPU profile in ${profileDir}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
