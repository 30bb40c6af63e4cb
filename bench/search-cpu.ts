/**
 * Search cost IN PROCESS on the search-latency population (.bench-data/population-<patients>, built when
 * missing): the server's router on that data directory, no HTTP, each query of every bench/search-latency.ts
 * shape answered and its Bundle serialised to JSON as the HTTP edge would. Prints per shape the CPU time of this
 * process per query (median of the samples; process.cpuUsage, so the load of other processes on a shared machine
 * inflates it far less than wall clock) and wall p50/p95. Run under `node --cpu-prof --import tsx` to see where it goes.
 * Usage: npx tsx bench/search-cpu.ts [patients=1000] [samples=200] [passes=2] [--only=<part of a shape's name>]
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

function line(name: string, answers: Answer[]): string {
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const cpu = median(answers.map((a) => a.cpuUs)) / 1000;
  const hits = answers.reduce((n, a) => n + a.entries, 0) / answers.length;
  return `${name.padEnd(48)}${cpu.toFixed(2).padStart(8)}${percentile(ms, 50).toFixed(2).padStart(9)}${percentile(ms, 95).toFixed(2).padStart(9)}${hits.toFixed(0).padStart(6)}\n`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const [patients = 1000, samples = 200, passes = 2] = args.filter((a) => !a.startsWith('--')).map(Number);
  const dataDir = populationDir(patients);
  if (!existsSync(join(dataDir, '.complete'))) await buildPopulation(patients, dataDir);
  const started = Date.now();
  const server = await createServer(loadConfig({ DATA_DIR: dataDir, AUDIT: 'off' }), { logger: silentLogger });
  process.stdout.write(`server parts up in ${Date.now() - started} ms on ${(patients * 100).toLocaleString('en')} resources\n`);
  try {
    for (let pass = 1; pass <= passes; pass++) {
      process.stdout.write(`pass ${pass} of ${passes}\n${'query'.padEnd(48)}  cpu ms  wall p50  wall p95  hits\n`);
      for (const shape of shapes(patients).filter((s) => !only || s.name.includes(only))) {
        for (let i = 0; i < 10; i++) await answer(server.router, shape.url(i + 100000));
        const answers: Answer[] = [];
        for (let i = 0; i < samples; i++) answers.push(await answer(server.router, shape.url(i)));
        process.stdout.write(line(shape.name, answers));
      }
      if (only && !'_count=20 page walk'.includes(only)) continue;
      const pages: Answer[] = [];
      for (let i = 0; i < Math.max(20, samples / 10); i++) {
        let next: string | undefined = pageWalkStart(patients, i);
        while (next) {
          const a = await answer(server.router, next);
          pages.push(a);
          next = a.next;
        }
      }
      process.stdout.write(line('_count=20 page walk (per page)', pages));
    }
  } finally {
    await server.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
