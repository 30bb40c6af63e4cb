/**
 * Search latency over HTTP on the embedded store, with the deterministic synthetic population
 * (bench/support/population.ts, ~100 resources per patient). Prints p50/p95 per query shape.
 * Goals (issue 3): p50 <= 5 ms and p95 <= 20 ms at 100,000 resources; p50 at 1,000,000 <= 1.5x p50 at 100,000.
 * Usage: npx tsx bench/search-latency.ts [patients=1000] [samples=200] [passes=2]
 *   Every pass measures every shape; the first pass after start-up also meets the collection of the freshly
 *   loaded heap (seconds on a 13 GB heap), so the figures to quote are those of the last pass.
 *   (1000 patients = 100,000 resources; 10000 = 1,000,000. The data directory is kept in .bench-data/ and reused.)
 *   With BENCH_SERVER_URL (e.g. http://127.0.0.1:18600/fhir) the queries go to a server already running on that
 *   population instead (to profile it, or to measure again without another start-up).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Patient } from 'fhir/r4';
import { ROOT, START_FLAGS, startServerProcess } from './support/processes';
import { percentile } from './support/stats';
import { patientBundle } from './support/population';

const HEAP = '--max-old-space-size=20000';

interface Shape {
  name: string;
  /** Query for sample i (varies the values so caches do not flatter the figure). */
  url: (i: number) => string;
}

function shapes(patients: number): Shape[] {
  const patient = (i: number) => `p${(i * 7919) % patients}`;
  const family = (i: number) => ((patientBundle((i * 7919) % patients)[0] as Patient).name?.[0]?.family ?? '');
  const codes = ['8867-4', '8480-6', '29463-7', '2339-0', '718-7'];
  const code = (i: number) => encodeURIComponent(`http://loinc.org|${codes[i % codes.length]}`);
  return [
    { name: 'Patient?name=', url: (i) => `/Patient?name=${encodeURIComponent(family(i).slice(0, 5))}` },
    { name: 'Patient?identifier=', url: (i) => `/Patient?identifier=${encodeURIComponent(`http://hospital.example.org/mrn|MRN${String((i * 7919) % patients).padStart(8, '0')}`)}` },
    { name: 'Patient?birthdate=ge', url: (i) => `/Patient?birthdate=ge${2000 + (i % 20)}-01-01` },
    { name: 'Observation?patient=&code=', url: (i) => `/Observation?patient=${patient(i)}&code=${code(i)}` },
    { name: 'Observation?code=&date=ge', url: (i) => `/Observation?code=${code(i)}&date=ge2025-12-${String(1 + (i % 28)).padStart(2, '0')}` },
    { name: 'Condition?patient=', url: (i) => `/Condition?patient=${patient(i)}` },
    { name: 'Observation?subject.name= (chain)', url: (i) => `/Observation?subject:Patient.name=${encodeURIComponent(family(i))}` },
    { name: 'Patient?_has:Observation:patient:code=', url: (i) => `/Patient?_has:Observation:patient:code=${encodeURIComponent(`http://loinc.org|${RARE_CODE}`)}&_count=${10 + (i % 10)}` },
    { name: 'Patient?_id=&_revinclude=Observation:patient', url: (i) => `/Patient?_id=${patient(i)}&_revinclude=Observation:patient` },
  ];
}

/** A lab code present on about 1 patient in 50 (see population.ts), so `_has` has a selective inner query. */
const RARE_CODE = '94500-6';


async function timeGet(base: string, path: string): Promise<{ ms: number; body: { link?: Array<{ relation: string; url: string }>; entry?: unknown[] } }> {
  const started = process.hrtime.bigint();
  const res = await fetch(base + path);
  const body = (await res.json()) as { link?: Array<{ relation: string; url: string }>; entry?: unknown[] };
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { ms, body };
}

async function main(): Promise<void> {
  const [patients = 1000, samples = 200, passes = 2] = process.argv.slice(2).map(Number);
  const external = process.env.BENCH_SERVER_URL;
  const child = external ? undefined : await startPopulatedServer(patients);
  const base = external ?? `http://127.0.0.1:${18500 + (patients % 100)}/fhir`;
  try {
    for (let pass = 1; pass <= passes; pass++) {
      process.stdout.write(`pass ${pass} of ${passes}\n`);
      await measure(base, patients, samples);
    }
  } finally {
    child?.kill('SIGTERM');
  }
}

/** One pass: p50/p95 of every query shape, then of the pages of a `_count=20` walk. */
async function measure(base: string, patients: number, samples: number): Promise<void> {
  process.stdout.write(`${'query'.padEnd(48)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'hits'.padStart(6)}\n`);
  for (const shape of shapes(patients)) {
    for (let i = 0; i < 10; i++) await timeGet(base, shape.url(i + 100000));
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < samples; i++) {
      const { ms, body } = await timeGet(base, shape.url(i));
      times.push(ms);
      hits += body.entry?.length ?? 0;
    }
    times.sort((a, b) => a - b);
    process.stdout.write(`${shape.name.padEnd(48)} ${percentile(times, 50).toFixed(2).padStart(8)} ${percentile(times, 95).toFixed(2).padStart(8)} ${(hits / samples).toFixed(1).padStart(6)}\n`);
  }
  const pageTimes: number[] = [];
  for (let i = 0; i < Math.max(20, samples / 10); i++) {
    let next: string | undefined = `/Observation?patient=p${(i * 7919) % patients}&_count=20`;
    while (next) {
      const { ms, body } = await timeGet(base, next);
      pageTimes.push(ms);
      const link = body.link?.find((l) => l.relation === 'next')?.url;
      next = link ? link.slice(link.indexOf('/fhir') + 5) : undefined;
    }
  }
  pageTimes.sort((a, b) => a - b);
  process.stdout.write(`${'_count=20 page walk (per page)'.padEnd(48)} ${percentile(pageTimes, 50).toFixed(2).padStart(8)} ${percentile(pageTimes, 95).toFixed(2).padStart(8)}\n`);
}

/** Starts the server on the cached population of `patients` patients, writing it first when missing. */
async function startPopulatedServer(patients: number): Promise<ChildProcess> {
  const dataDir = join(ROOT, '.bench-data', `population-${patients}`);
  if (!existsSync(join(dataDir, '.complete'))) {
    mkdirSync(dataDir, { recursive: true });
    process.stdout.write(`populating ${patients * 100} resources into ${dataDir} ...\n`);
    execFileSync(process.execPath, [HEAP, ...START_FLAGS, '--import', 'tsx', join(ROOT, 'bench/support/populate.ts'), dataDir, String(patients)], { cwd: ROOT, stdio: 'inherit' });
    execFileSync('touch', [join(dataDir, '.complete')]);
  }
  const started = Date.now();
  const child = await startServerProcess([HEAP, ...START_FLAGS, '--import', 'tsx', join(ROOT, 'src/main.ts')], {
    DATA_DIR: dataDir,
    PORT: String(18500 + (patients % 100)),
  });
  process.stdout.write(`server up in ${Date.now() - started} ms on ${patients * 100} resources\n`);
  return child;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
