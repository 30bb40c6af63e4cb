/**
 * Start-up with the IPS package (hl7.fhir.uv.ips@2.0.0) and the shipped regional profiles: loading profiles/ and
 * compiling every profile, cold (empty DATA_DIR/profile-cache: untar, generate snapshots, compile) and warm (the
 * cache filled by a previous start), each in a fresh Node process; plus the heap the loaded registry holds.
 * Median of several starts of each kind. Run: npx tsx bench/profile-startup.ts [starts=5]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { loadProfiles } from '../src/validation/profile-loading';
import { loadBaseValidator } from '../src/validation/validator';
import { median } from './support/stats';

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = path.join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.uv.ips-2.0.0.tgz');
const out = (line: string): boolean => process.stdout.write(`${line}\n`);

interface Start {
  loadMs: number;
  heapMb: number;
  firstPassMs: number;
  hits: number;
  misses: number;
  profiles: number;
}

/** One start in this process (the child): load and compile, then validate every IPS example once. */
async function child(profilesDir: string, cacheDir: string): Promise<void> {
  const examplesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ips-examples-'));
  tar.x({ file: PACKAGE, cwd: examplesDir, sync: true, filter: (p) => p.startsWith('package/example/') });
  const examples = fs.readdirSync(path.join(examplesDir, 'package', 'example')).map((f) => JSON.parse(fs.readFileSync(path.join(examplesDir, 'package', 'example', f), 'utf8')) as Record<string, unknown>);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const { registry } = await loadProfiles(profilesDir, { find: async () => [] } as never, { unknownProfile: 'warning', requiredProfiles: {} }, cacheDir);
  const loadMs = performance.now() - started;
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  const validator = loadBaseValidator({ profiles: registry });
  const passStarted = performance.now();
  for (const r of examples) validator.validate(r);
  const firstPassMs = performance.now() - passStarted;
  fs.rmSync(examplesDir, { recursive: true, force: true });
  const result: Start = { loadMs, heapMb, firstPassMs, hits: registry.cache!.hits, misses: registry.cache!.misses, profiles: registry.size };
  process.stdout.write(JSON.stringify(result));
}

function start(profilesDir: string, cacheDir: string): Start {
  const stdout = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', profilesDir, cacheDir], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(stdout) as Start;
}

function main(): void {
  const starts = Number(process.argv[2] ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-startup-'));
  const profilesDir = path.join(dir, 'profiles');
  fs.cpSync(path.join(ROOT, 'profiles'), profilesDir, { recursive: true });
  fs.copyFileSync(PACKAGE, path.join(profilesDir, 'hl7.fhir.uv.ips-2.0.0.tgz'));
  const cold: Start[] = [];
  const warm: Start[] = [];
  for (let i = 0; i < starts; i++) {
    const cacheDir = path.join(dir, `cache-${i}`);
    cold.push(start(profilesDir, cacheDir));
    warm.push(start(profilesDir, cacheDir));
  }
  const m = (runs: Start[], key: keyof Start): number => median(runs.map((r) => r[key]));
  out(`profiles loaded: ${cold[0].profiles} StructureDefinitions (IPS 2.0.0 + regional); ${starts} cold and ${starts} warm starts, each a fresh process`);
  out(`cold (empty cache: untar, snapshots, compile): load ${m(cold, 'loadMs').toFixed(0)} ms median (${cold.map((r) => r.loadMs.toFixed(0)).join(', ')}); cache misses ${cold[0].misses}`);
  out(`warm (cached): load ${m(warm, 'loadMs').toFixed(0)} ms median (${warm.map((r) => r.loadMs.toFixed(0)).join(', ')}); cache hits ${warm[0].hits}, misses ${warm[0].misses}`);
  out(`warm/cold: ${(m(warm, 'loadMs') / m(cold, 'loadMs')).toFixed(2)}`);
  out(`heap held after loading (registry: definitions, compiled rule trees): cold ${m(cold, 'heapMb').toFixed(1)} MB, warm ${m(warm, 'heapMb').toFixed(1)} MB`);
  out(`first validation of the 44 IPS examples after start-up (lazy base schema and FHIRPath compiles, not cached): cold ${m(cold, 'firstPassMs').toFixed(0)} ms, warm ${m(warm, 'firstPassMs').toFixed(0)} ms`);
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4]).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
} else main();
