/**
 * The real server on the cached on-disk benchmark population (population.ts, ~100 resources per patient), kept in
 * .bench-data/population-<patients> (or under BENCH_DATA_DIR) and built first when missing (build-population.ts).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { systemTokenFor } from '../../src/access/local-key';
import { ROOT, START_FLAGS, startServerProcess } from './processes';

/** Heap limit for servers holding a large embedded store (about 13 GB at 1,000,000 resources). */
export const HEAP = '--max-old-space-size=20000';

/** Where the population of `patients` patients is kept: `population-<patients>` under BENCH_DATA_DIR or .bench-data/. */
export function populationDir(patients: number): string {
  return join(process.env.BENCH_DATA_DIR || join(ROOT, '.bench-data'), `population-${patients}`);
}

/** The population's data directory, built first (in a child process) when missing or incomplete. */
export function ensurePopulation(patients: number): string {
  const dataDir = populationDir(patients);
  if (!existsSync(join(dataDir, '.complete'))) {
    execFileSync(process.execPath, [...START_FLAGS, '--import', 'tsx', join(ROOT, 'bench/support/build-population.ts'), String(patients), dataDir], { cwd: ROOT, stdio: 'inherit' });
  }
  return dataDir;
}

export async function startPopulatedServer(patients: number, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const dataDir = ensurePopulation(patients);
  const started = Date.now();
  const child = await startServerProcess([HEAP, ...START_FLAGS, '--import', 'tsx', join(ROOT, 'src/main.ts')], {
    DATA_DIR: dataDir,
    PORT: String(port),
    ...env,
  });
  process.stdout.write(`server up in ${Date.now() - started} ms on ${patients * 100} resources\n`);
  return child;
}

/** `Bearer <system token>` for the populated server on `port` (signed with the local key in its DATA_DIR). */
export async function authorizationFor(patients: number, port: number): Promise<string> {
  return `Bearer ${await systemTokenFor(populationDir(patients), `http://127.0.0.1:${port}/fhir`)}`;
}
