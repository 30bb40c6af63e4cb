/**
 * Start-up time of the built server (`node dist/src/main.js` with the flags of `npm start`) until it answers
 * GET /fhir/metadata, with an empty store and with a 100,000-resource store (the synthetic population,
 * 1,000 patients). Median of several starts.
 * Usage: npx tsx bench/startup.ts [patients=1000] [starts=3]   (builds dist/ first)
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { populate } from './support/populate';
import { median, ROOT, START_FLAGS, startServerProcess } from './support/processes';

async function startOnce(dataDir: string, port: number): Promise<number> {
  const started = process.hrtime.bigint();
  const child = await startServerProcess([...START_FLAGS, join(ROOT, 'dist', 'src', 'main.js')], { DATA_DIR: dataDir, PORT: String(port) });
  const res = await fetch(`http://127.0.0.1:${port}/fhir/metadata`);
  if (res.status !== 200) throw new Error(`metadata answered ${res.status}`);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return ms;
}

async function main(): Promise<void> {
  const [patients = 1000, starts = 3] = process.argv.slice(2).map(Number);
  execSync('npx tsc -p tsconfig.build.json', { cwd: ROOT, stdio: 'inherit' });
  const empty = mkdtempSync(join(tmpdir(), 'bench-start-empty-'));
  const full = mkdtempSync(join(tmpdir(), 'bench-start-full-'));
  try {
    const populateStarted = Date.now();
    const count = await populate(full, patients, 64, () => undefined);
    process.stdout.write(`populated ${count} resources in ${((Date.now() - populateStarted) / 1000).toFixed(1)} s\n`);
    for (const [label, dir] of [['empty store', empty], [`${count}-resource store`, full]] as const) {
      const times: number[] = [];
      for (let i = 0; i < starts; i++) times.push(await startOnce(dir, 18080 + i));
      process.stdout.write(`start-up, ${label}: ${median(times).toFixed(0)} ms (median of ${starts}: ${times.map((t) => t.toFixed(0)).join(', ')})\n`);
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(full, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
