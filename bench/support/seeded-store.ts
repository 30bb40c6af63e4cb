/**
 * An on-disk LMDB data directory holding the synthetic population (population.ts), built in process through the
 * storage port (seed-population.ts: version 1 of each resource with its index entries and compartments, no router)
 * and kept in .bench-data/seeded-<patients> for later runs. The server is composed on the directory first, so its
 * indexes exist before the documents arrive and are filled by the same commits. 100,000 resources take about a
 * minute, 1,000,000 about ten, instead of the half hour of writes through the API (populate.ts).
 * Usage (to build one ahead of a benchmark): npx tsx bench/support/seeded-store.ts <patients>
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { createServer } from '../../src/compose';
import { silentLogger } from '../../src/http/logger';
import { ROOT } from './processes';
import { seedPopulation } from './seed-population';

export const seededDir = (patients: number): string => join(ROOT, '.bench-data', `seeded-${patients}`);

/** The data directory of `patients` seeded patients (~100 resources each), built first when missing. */
export async function seededStore(patients: number, baseUrl: string): Promise<string> {
  const dataDir = seededDir(patients);
  const marker = join(dataDir, '.complete');
  if (existsSync(marker)) return dataDir;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const started = Date.now();
  process.stdout.write(`seeding ${patients * 100} resources into ${dataDir} ...\n`);
  const server = await createServer(loadConfig({ DATA_DIR: dataDir, BASE_URL: baseUrl }), { logger: silentLogger });
  const written = await seedPopulation(server.store, patients, baseUrl);
  await server.close();
  writeFileSync(marker, JSON.stringify({ patients, resources: written, baseUrl }));
  process.stdout.write(`${written} resources seeded in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return dataDir;
}

if (require.main === module) {
  const patients = Number(process.argv[2] ?? 1000);
  seededStore(patients, process.argv[3] ?? 'http://127.0.0.1:18520/fhir').catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
