/**
 * The real server on the cached on-disk benchmark population (population.ts, ~100 resources per patient), kept in
 * .bench-data/population-<patients> and written first when missing (bench/support/populate.ts).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemTokenFor } from '../../src/access/local-key';
import { ROOT, START_FLAGS, startServerProcess } from './processes';

/** Heap limit for servers holding a large embedded store (about 13 GB at 1,000,000 resources). */
export const HEAP = '--max-old-space-size=20000';

export async function startPopulatedServer(patients: number, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
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
    PORT: String(port),
    ...env,
  });
  process.stdout.write(`server up in ${Date.now() - started} ms on ${patients * 100} resources\n`);
  return child;
}

/** `Bearer <system token>` for the populated server on `port` (signed with the local key in its DATA_DIR). */
export async function authorizationFor(patients: number, port: number): Promise<string> {
  return `Bearer ${await systemTokenFor(join(ROOT, '.bench-data', `population-${patients}`), `http://127.0.0.1:${port}/fhir`)}`;
}
