/**
 * Search cost IN PROCESS on the search-latency population (.bench-data/population-<patients>, built when
 * missing): the server's router on that data directory, no HTTP, each query of every bench/search-latency.ts
 * shape answered and its Bundle serialised to JSON as the HTTP edge would. Prints per shape the CPU time of this
 * process per query (median of the samples; process.cpuUsage, so the load of other processes on a shared machine
 * inflates it far less than wall clock) and wall p50/p95. Run under `node --cpu-prof --import tsx` to see where it goes.
 * Usage: npx tsx bench/search-cpu.ts [patients=1000] [samples=200] [passes=2] [--only=<part of a shape's name>] [--baseline=<patients>]
 *   --baseline=1000: a second population opened in the same process, the two taking turns query by query; prints
 *   the CPU ratio per shape (for the 1.5x goal: npx tsx bench/search-cpu.ts 10000 200 3 --baseline=1000).
 *   e.g. node --cpu-prof --cpu-prof-dir=.scratch --import tsx bench/search-cpu.ts 1000 300 1 --only=code=
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { internalAccess } from '../src/access/request-access';
import { loadConfig } from '../src/config/config';
import { createServer } from '../src/compose';
import type { FhirRouter } from '../src/fhir/router';
import { silentLogger } from '../src/http/logger';
import { buildPopulation } from './support/build-population';
import { populationDir } from './support/populated-server';
import { pageWalkStart, shapes } from './support/search-shapes';
import { median, percentile } from './support/stats';

interface Answer {
  cpuUs: number;
  ms: number;
  next?: string;
  entries: number;
}

async function answer(router: FhirRouter, url: string): Promise<Answer> {
  const parsed = new URL(url, 'http://x');
  const query = [...parsed.searchParams.entries()] as Array<[string, string]>;
  const path = parsed.pathname.replace(/^\/fhir/, '').split('/').filter(Boolean);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const res = await router.route({ method: 'GET', path, query, prefer: {}, access: internalAccess('bench search-cpu') });
  const text = JSON.stringify(res.resource);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
  const bundle = res.resource as { entry?: unknown[]; link?: Array<{ relation: string; url: string }> };
  const link = bundle.link?.find((l) => l.relation === 'next')?.url;
  return { cpuUs: used.user + used.system, ms, entries: bundle.entry?.length ?? 0, next: link ? link.slice(link.indexOf('/fhir') + 5) : undefined };
}

interface Target {
  patients: number;
  router: FhirRouter;
  close(): Promise<void>;
}

async function open(patients: number): Promise<Target> {
  const dataDir = populationDir(patients);
  if (!existsSync(join(dataDir, '.complete'))) await buildPopulation(patients, dataDir);
  const started = Date.now();
  const server = await createServer(loadConfig({ DATA_DIR: dataDir, AUDIT: 'off' }), { logger: silentLogger });
  process.stdout.write(`server parts up in ${Date.now() - started} ms on ${(patients * 100).toLocaleString('en')} resources\n`);
  return { patients, router: server.router, close: () => server.close() };
}

/** Per target: CPU ms (median), wall p50 / p95 ms, hits; then the CPU ratio of the second to the first. */
function line(name: string, answers: Answer[][]): string {
  const cpu = answers.map((list) => median(list.map((a) => a.cpuUs)) / 1000);
  const cells = answers.map((list, k) => {
    const ms = list.map((a) => a.ms).sort((a, b) => a - b);
    const hits = list.reduce((n, a) => n + a.entries, 0) / list.length;
    return `${cpu[k].toFixed(2).padStart(8)}${percentile(ms, 50).toFixed(2).padStart(9)}${percentile(ms, 95).toFixed(2).padStart(9)}${hits.toFixed(0).padStart(6)}`;
  });
  const ratio = cpu.length === 2 ? (cpu[1] / cpu[0]).toFixed(2).padStart(8) : '';
  return `${name.padEnd(48)}${cells.join('  ')}${ratio}\n`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const baseline = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
  const [patients = 1000, samples = 200, passes = 2] = args.filter((a) => !a.startsWith('--')).map(Number);
  const targets: Target[] = [];
  try {
    if (baseline) targets.push(await open(Number(baseline)));
    targets.push(await open(patients));
    const header = targets.map((t) => `${(t.patients * 100).toLocaleString('en')}: cpu ms  wall p50  wall p95  hits`.padStart(32)).join('  ');
    for (let pass = 1; pass <= passes; pass++) {
      process.stdout.write(`pass ${pass} of ${passes}\n${'query'.padEnd(48)}${header}${targets.length === 2 ? '  cpu ratio' : ''}\n`);
      const lists = targets.map((t) => shapes(t.patients).filter((s) => !only || s.name.includes(only)));
      for (let s = 0; s < lists[0].length; s++) {
        for (let i = 0; i < 10; i++) for (let k = 0; k < targets.length; k++) await answer(targets[k].router, lists[k][s].url(i + 100000));
        const answers = targets.map(() => [] as Answer[]);
        for (let i = 0; i < samples; i++) for (let k = 0; k < targets.length; k++) answers[k].push(await answer(targets[k].router, lists[k][s].url(i)));
        process.stdout.write(line(lists[0][s].name, answers));
      }
      if (only && !'_count=20 page walk'.includes(only)) continue;
      const pages = targets.map(() => [] as Answer[]);
      for (let i = 0; i < Math.max(20, samples / 10); i++) {
        for (let k = 0; k < targets.length; k++) {
          let next: string | undefined = pageWalkStart(targets[k].patients, i);
          while (next) {
            const a = await answer(targets[k].router, next);
            pages[k].push(a);
            next = a.next;
          }
        }
      }
      process.stdout.write(line('_count=20 page walk (per page)', pages));
    }
  } finally {
    for (const t of targets) await t.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
