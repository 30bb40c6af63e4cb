/**
 * `bench/access.ts --latency`: search latency at 100,000 resources (1,000 patients of the synthetic population,
 * bench/support/population.ts) with consent filters on, in process (the router, no HTTP): a user/ token of
 * Practitioner/dr (purpose TREAT) under consent (a 5-provision Consent for p0 and a one-provision Consent for every
 * tenth patient), against the same searches with the system token on the same store, taking turns request by
 * request. Goal (issue 10): p50 <= 5 ms, p95 <= 20 ms. The store is a fresh on-disk LMDB store, as `npm start` opens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessTokenFromClaims } from '../../src/access/tokens';
import { internalAccess } from '../../src/access/request-access';
import { createServer } from '../../src/compose';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/http/logger';
import { createStore } from '../../src/storage/create-store';
import { percentile } from './stats';
import { seedPopulation } from './seed-population';
import { consent, FIVE, USER_CLAIMS } from './serve-access';

interface Shape {
  name: string;
  query: (i: number) => { path: string[]; query: Array<[string, string]> };
}

function shapes(patients: number): Shape[] {
  const patient = (i: number): string => `p${(i * 7919) % patients}`;
  const codes = ['8867-4', '8480-6', '29463-7', '2339-0', '718-7'];
  const code = (i: number): string => `http://loinc.org|${codes[i % codes.length]}`;
  return [
    { name: 'Observation?patient=&code=', query: (i) => ({ path: ['Observation'], query: [['patient', patient(i)], ['code', code(i)]] }) },
    { name: 'Observation?patient=p0 (5-provision consent)', query: (i) => ({ path: ['Observation'], query: [['patient', 'p0'], ['_count', String(10 + (i % 5))]] }) },
    { name: 'Condition?patient=', query: (i) => ({ path: ['Condition'], query: [['patient', patient(i)]] }) },
    { name: 'Observation?code=&date=ge', query: (i) => ({ path: ['Observation'], query: [['code', code(i)], ['date', `ge2025-12-${String(1 + (i % 28)).padStart(2, '0')}`]] }) },
    { name: 'Patient?birthdate=ge', query: (i) => ({ path: ['Patient'], query: [['birthdate', `ge${2000 + (i % 20)}-01-01`]] }) },
    { name: 'Patient?_id=&_revinclude=Observation:patient', query: (i) => ({ path: ['Patient'], query: [['_id', patient(i)], ['_revinclude', 'Observation:patient']] }) },
  ];
}

export async function consentLatency(patients: number, samples: number): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-access-latency-'));
  try {
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir });
    const store = await createStore({ dataDir, cacheMb: config.storeCacheMb });
    process.stdout.write(`seeding ${patients} patients (~${patients * 100} resources) into ${dataDir}\n`);
    await seedPopulation(store, patients, config.baseUrl);
    const server = await createServer(config, { logger: silentLogger, store });
    const seed = internalAccess('bench seeding');
    const put = async (resource: Record<string, unknown>): Promise<void> => {
      const res = await server.router.route({ method: 'PUT', path: [resource.resourceType as string, resource.id as string], query: [], body: resource, prefer: { return: 'minimal' }, access: seed });
      if (res.status >= 300) throw new Error(`seeding ${String(resource.id)}: ${res.status}`);
    };
    await put(consent('c0', 'p0', FIVE));
    for (let p = 10; p < patients; p += 10) await put(consent(`c${p}`, `p${p}`, [FIVE[1] as object]));
    const user = accessTokenFromClaims({ ...USER_CLAIMS, exp: Math.floor(Date.now() / 1000) + 3600 });
    const system = accessTokenFromClaims({ scope: 'system/*.rs', client_id: 'bench', exp: Math.floor(Date.now() / 1000) + 3600 });
    const time = async (token: typeof user, q: { path: string[]; query: Array<[string, string]> }): Promise<number> => {
      const started = process.hrtime.bigint();
      const res = await server.router.route({ method: 'GET', ...q, prefer: {}, access: { token, decidedBy: new Set() } });
      if (res.status !== 200) throw new Error(`${q.path.join('/')}: ${res.status}`);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    process.stdout.write(`search latency with consent filters on, ${patients * 100} resources, ${samples} samples per shape (in process, ms)\n`);
    process.stdout.write(`  ${'shape'.padEnd(48)} ${'user p50'.padStart(9)} ${'p95'.padStart(7)}   ${'system p50'.padStart(10)} ${'p95'.padStart(7)}\n`);
    const all: number[] = [];
    for (const shape of shapes(patients)) {
      const times = { user: [] as number[], system: [] as number[] };
      for (let i = 0; i < 5; i++) await time(user, shape.query(i));
      for (let i = 0; i < samples; i++) {
        times.user.push(await time(user, shape.query(i)));
        times.system.push(await time(system, shape.query(i)));
      }
      const [u, s] = [times.user.sort((a, b) => a - b), times.system.sort((a, b) => a - b)];
      all.push(...u);
      const f = (n: number): string => n.toFixed(2);
      process.stdout.write(`  ${shape.name.padEnd(48)} ${f(percentile(u, 50)).padStart(9)} ${f(percentile(u, 95)).padStart(7)}   ${f(percentile(s, 50)).padStart(10)} ${f(percentile(s, 95)).padStart(7)}\n`);
    }
    all.sort((a, b) => a - b);
    process.stdout.write(`  all shapes, user token: p50 ${percentile(all, 50).toFixed(2)} ms, p95 ${percentile(all, 95).toFixed(2)} ms (goal p50 <= 5, p95 <= 20)\n`);
    await server.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
