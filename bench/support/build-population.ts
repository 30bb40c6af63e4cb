/**
 * Builds the search-latency population (population.ts, ~100 resources per patient) into a data directory, fast:
 * the server's own start-up (createServer: index definitions, local signing key) on that directory, then the
 * resources written straight into its store through the storage port, 10 patients (1,000 resources) per
 * transaction (seed-population.ts), then a `.complete` marker. (With 100 per transaction the LMDB file of 100,000
 * resources was 705 MB instead of 599 MB for the same 492 MB of pages in use: LMDB copies every page a transaction
 * touches, and a transaction that touches most of the tree leaves as many pages free behind it.) The benchmarks that start a populated server
 * (search-latency, store-footprint, export) reuse the directory as long as the marker is there.
 * A directory in LMDB layout 1 has its indexes rebuilt on first open (lmdb-store.ts); build it again for figures of
 * the current layout (its documents keep the older compression, lmdb-store.ts documentDictionary).
 * Usage: npx tsx bench/support/build-population.ts <patients> [dataDir=.bench-data/population-<patients>]
 *   (1000 patients = 100,000 resources; 10000 = 1,000,000: ~6 GB of disk.)
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/config';
import { createServer } from '../../src/compose';
import { silentLogger } from '../../src/http/logger';
import { populationDir } from './populated-server';
import { seedPopulation } from './seed-population';

export async function buildPopulation(patients: number, dataDir = populationDir(patients), log: (s: string) => void = (s) => void process.stdout.write(s)): Promise<void> {
  if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  const started = Date.now();
  log(`building ${(patients * 100).toLocaleString('en')} resources into ${dataDir} ...\n`);
  const server = await createServer(loadConfig({ DATA_DIR: dataDir, AUDIT: 'off' }), { logger: silentLogger });
  try {
    const written = await seedPopulation(server.store, patients, loadConfig({ DATA_DIR: dataDir }).baseUrl, { patientsPerTransaction: 10, log });
    log(`built ${written} resources in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await server.close();
  }
  writeFileSync(`${dataDir}/.complete`, `${new Date().toISOString()}\n`);
}

if (require.main === module) {
  const [patients, dir] = process.argv.slice(2);
  if (!patients) throw new Error('usage: build-population.ts <patients> [dataDir]');
  buildPopulation(Number(patients), dir).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
