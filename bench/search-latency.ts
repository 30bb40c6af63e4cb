/**
 * Search latency over HTTP on the embedded store, with the deterministic synthetic population
 * (bench/support/population.ts, ~100 resources per patient). Prints p50/p95 per query shape, and for a server
 * started here its CPU time per request (/proc; steadier than wall clock on a loaded machine).
 * Goals (issue 3): p50 <= 5 ms and p95 <= 20 ms at 100,000 resources; p50 at 1,000,000 <= 1.5x p50 at 100,000.
 * Usage: npx tsx bench/search-latency.ts [patients=1000] [samples=200] [passes=2] [--baseline=<patients>]
 *   Every pass measures every shape; the first pass after start-up also meets the collection of the freshly
 *   loaded heap (seconds on a 13 GB heap).
 *   (1000 patients = 100,000 resources; 10000 = 1,000,000. The data directory is kept in .bench-data/population-<patients>
 *   and reused; bench/support/build-population.ts builds it when missing.)
 *   With --baseline=1000, a second server on that population is measured in the same run, the two taking turns
 *   request by request, and the p50 ratio per shape is printed per pass and as the median over passes: the
 *   figure for the 1.5x goal (`npx tsx bench/search-latency.ts 10000 200 5 --baseline=1000`; the 1M directory takes ~9 GB of disk).
 *   With BENCH_SERVER_URL (and BENCH_BASELINE_URL for the baseline), e.g. http://127.0.0.1:18600/fhir, the
 *   queries go to a server already running on that population instead (to profile it, or to measure again
 *   without another start-up).
 */
import type { ChildProcess } from 'node:child_process';
import { cpuSeconds } from './support/cpu';
import { authorizationFor, startPopulatedServer } from './support/populated-server';
import { percentile } from './support/stats';
import { pageWalkStart, shapes } from './support/search-shapes';

/** `Bearer <system token>`: from BENCH_TOKEN for a server given by URL, else signed with the local key of the started one. */
const givenToken = process.env.BENCH_TOKEN ? `Bearer ${process.env.BENCH_TOKEN}` : '';
const authorizations = new Map<string, string>();

async function timeGet(base: string, path: string): Promise<{ ms: number; body: { link?: Array<{ relation: string; url: string }>; entry?: unknown[] } }> {
  const started = process.hrtime.bigint();
  const res = await fetch(base + path, { headers: { Authorization: authorizations.get(base.replace(/\/+$/, '')) ?? givenToken } });
  const body = (await res.json()) as { link?: Array<{ relation: string; url: string }>; entry?: unknown[] };
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { ms, body };
}

interface Target {
  patients: number;
  base: string;
  child?: ChildProcess;
}

/** A server on `patients` patients: the one at `url` when given, else one started here on `port`. */
async function target(patients: number, url: string | undefined, port: number): Promise<Target> {
  if (url) {
    // A server already running on the population (access control on): the system token of its directory.
    authorizations.set(url, await authorizationFor(patients, Number(new URL(url).port)));
    return { patients, base: url };
  }
  const child = await startPopulatedServer(patients, port);
  authorizations.set(`http://127.0.0.1:${port}/fhir`, await authorizationFor(patients, port));
  return { patients, base: `http://127.0.0.1:${port}/fhir`, child };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const baselineArg = args.find((a) => a.startsWith('--baseline='));
  const [patients = 1000, samples = 200, passes = 2] = args.filter((a) => !a.startsWith('--')).map(Number);
  const baselinePatients = baselineArg ? Number(baselineArg.slice('--baseline='.length)) : undefined;
  const targets: Target[] = [];
  try {
    if (baselinePatients !== undefined) targets.push(await target(baselinePatients, process.env.BENCH_BASELINE_URL, 18501));
    targets.push(await target(patients, process.env.BENCH_SERVER_URL, 18500));
    const ratios = new Map<string, number[]>();
    for (let pass = 1; pass <= passes; pass++) {
      process.stdout.write(`pass ${pass} of ${passes}\n`);
      for (const [name, ratio] of await measure(targets, samples)) ratios.set(name, [...(ratios.get(name) ?? []), ratio]);
    }
    if (targets.length === 2) printRatios(ratios, targets);
  } finally {
    for (const t of targets) t.child?.kill('SIGTERM');
  }
}

/**
 * One pass: p50/p95 of every query shape, then of the pages of a `_count=20` walk. With a baseline, the two
 * servers take turns request by request, so that load and drift on the machine fall on both alike, and the
 * p50 ratio is printed. Returns the ratio per shape (empty without a baseline).
 */
async function measure(targets: Target[], samples: number): Promise<Map<string, number>> {
  const columns = targets.map((t) => `${(t.patients * 100).toLocaleString('en')}`.padStart(24)).join('');
  process.stdout.write(`${'query'.padEnd(48)}${columns}${targets.length === 2 ? '   ratio' : ''}  (p50 / p95 ms, hits, server CPU ms per request)\n`);
  const ratios = new Map<string, number>();
  const report = (name: string, times: number[][], hits: number[], cpu: number[]): void => {
    const cells = times.map((t, k) => {
      t.sort((a, b) => a - b);
      const hitText = hits[k] >= 0 ? ` ${(hits[k] / samples).toFixed(0).padStart(3)}` : '    ';
      const cpuText = Number.isFinite(cpu[k]) ? ((cpu[k] * 1000) / t.length).toFixed(2).padStart(6) : '     -';
      return `${percentile(t, 50).toFixed(2).padStart(6)} /${percentile(t, 95).toFixed(2).padStart(6)}${hitText}${cpuText}`;
    });
    let line = `${name.padEnd(48)}${cells.join('')}`;
    if (times.length === 2) {
      const ratio = percentile(times[1], 50) / percentile(times[0], 50);
      ratios.set(name, ratio);
      line += `${ratio.toFixed(2).padStart(8)}`;
    }
    process.stdout.write(`${line}\n`);
  };
  const shapeLists = targets.map((t) => shapes(t.patients));
  for (let s = 0; s < shapeLists[0].length; s++) {
    for (let i = 0; i < 10; i++) for (let k = 0; k < targets.length; k++) await timeGet(targets[k].base, shapeLists[k][s].url(i + 100000));
    const times = targets.map(() => [] as number[]);
    const hits = targets.map(() => 0);
    const cpu = targets.map((t) => -cpuSeconds(t.child?.pid));
    for (let i = 0; i < samples; i++) {
      for (let k = 0; k < targets.length; k++) {
        const { ms, body } = await timeGet(targets[k].base, shapeLists[k][s].url(i));
        times[k].push(ms);
        hits[k] += body.entry?.length ?? 0;
      }
    }
    targets.forEach((t, k) => (cpu[k] += cpuSeconds(t.child?.pid)));
    report(shapeLists[0][s].name, times, hits, cpu);
  }
  const pageTimes = targets.map(() => [] as number[]);
  const pageCpu = targets.map((t) => -cpuSeconds(t.child?.pid));
  for (let i = 0; i < Math.max(20, samples / 10); i++) {
    for (let k = 0; k < targets.length; k++) {
      let next: string | undefined = pageWalkStart(targets[k].patients, i);
      while (next) {
        const { ms, body } = await timeGet(targets[k].base, next);
        pageTimes[k].push(ms);
        const link = body.link?.find((l) => l.relation === 'next')?.url;
        next = link ? link.slice(link.indexOf('/fhir') + 5) : undefined;
      }
    }
  }
  targets.forEach((t, k) => (pageCpu[k] += cpuSeconds(t.child?.pid)));
  report('_count=20 page walk (per page)', pageTimes, targets.map(() => -1), pageCpu);
  return ratios;
}

/** Per shape: the p50 ratio of every pass and their median (the figure the goal is judged by). */
function printRatios(ratios: Map<string, number[]>, targets: Target[]): void {
  const [baseline, measured] = targets.map((t) => (t.patients * 100).toLocaleString('en'));
  process.stdout.write(`\np50 at ${measured} / p50 at ${baseline}, per pass and median over passes\n`);
  for (const [name, values] of ratios) {
    const median = [...values].sort((a, b) => a - b)[values.length >> 1];
    process.stdout.write(`${name.padEnd(48)}${values.map((v) => v.toFixed(2).padStart(6)).join('')}   median ${median.toFixed(2)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
