/**
 * Profile validation throughput on IPS-profiled resources (the examples of hl7.fhir.uv.ips@2.0.0, each validated
 * against the profiles it claims): this server's validator (base structure + invariants + profiles) against
 * @medplum/core's validateResource with the same IPS StructureDefinitions, in the same run; plus the cost of loading
 * the package (cold start-up, and the heap the compiled profiles hold).
 * Base validation with invariants against JSON.parse is bench/validation.ts.
 * Run: npx tsx bench/profile-validation.ts [--quick]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import type { Bundle, Resource, StructureDefinition } from 'fhir/r4';
import { loadProfiles } from '../src/validation/profile-loading';
import { loadBaseValidator } from '../src/validation/validator';
import { median } from './support/stats';

const QUICK = process.argv.includes('--quick');
const RUNS = QUICK ? 3 : 5;
const RUN_MS = QUICK ? 200 : 1000;
const ROOT = path.resolve(__dirname, '..');
const PACKAGE = path.join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.uv.ips-2.0.0.tgz');
const R4 = path.join(ROOT, 'node_modules', 'hl7.fhir.r4.examples');
const out = (line: string): boolean => process.stdout.write(`${line}\n`);

/** Resources per second: median over RUNS of runs lasting at least RUN_MS. */
function throughput(items: unknown[], fn: (item: unknown) => void): number {
  for (const item of items) fn(item);
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let done = 0;
    const started = performance.now();
    while (performance.now() - started < RUN_MS) {
      for (const item of items) fn(item);
      done += items.length;
    }
    rates.push((done * 1000) / (performance.now() - started));
  }
  return median(rates);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ips-bench-'));
  fs.mkdirSync(path.join(dir, 'profiles'));
  fs.copyFileSync(PACKAGE, path.join(dir, 'profiles', 'ips.tgz'));
  tar.x({ file: PACKAGE, cwd: dir, sync: true });
  const read = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const examples = fs.readdirSync(path.join(dir, 'package', 'example')).sort().map((f) => read(path.join(dir, 'package', 'example', f)));
  const profiled = examples.filter((r) => ((r.meta as { profile?: string[] } | undefined)?.profile ?? []).length > 0);
  const ipsDefinitions = new Map<string, StructureDefinition>();
  for (const f of fs.readdirSync(path.join(dir, 'package'))) {
    if (f.startsWith('StructureDefinition-')) {
      const sd = read(path.join(dir, 'package', f)) as unknown as StructureDefinition;
      ipsDefinitions.set(sd.url, sd);
    }
  }

  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const coldStarted = performance.now();
  const validator = loadBaseValidator({ profiles: (await loadProfiles(path.join(dir, 'profiles'), { find: async () => [] } as never, { unknownProfile: 'warning', requiredProfiles: {} })).registry });
  const loadedMs = performance.now() - coldStarted;
  for (const r of profiled) validator.validate(r);
  const coldMs = performance.now() - coldStarted;
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  const warmStarted = performance.now();
  for (const r of profiled) validator.validate(r);
  const warmMs = performance.now() - warmStarted;

  for (const file of ['Bundle-types.json', 'Bundle-resources.json']) indexStructureDefinitionBundle(read(path.join(R4, file)) as unknown as Bundle);
  const medplumCannot: string[] = [];
  for (const sd of ipsDefinitions.values()) {
    try {
      indexStructureDefinitionBundle([sd]);
    } catch (err) {
      medplumCannot.push(`${sd.id} (${(err as Error).message})`);
      ipsDefinitions.delete(sd.url);
    }
  }
  // Compared on the resources whose every claimed profile @medplum/core can load.
  const comparable = profiled.filter((r) => ((r.meta as { profile: string[] }).profile).every((p) => ipsDefinitions.has(p.split('|')[0])));
  const medplum = (resource: unknown): void => {
    const claims = ((resource as Resource).meta?.profile ?? []).map((p) => ipsDefinitions.get(p.split('|')[0])).filter((sd): sd is StructureDefinition => !!sd);
    try {
      if (!claims.length) validateResource(resource as Resource);
      for (const profile of claims) validateResource(resource as Resource, { profile });
    } catch {
      // validateResource throws an OperationOutcomeError when the resource is invalid: it still did the work.
    }
  };
  let ourErrors = 0;
  for (const r of profiled) ourErrors += validator.validate(r).filter((i) => i.severity === 'error').length;

  const ours = throughput(comparable, (r) => validator.validate(r));
  const theirs = throughput(comparable, medplum);
  out(`IPS examples claiming a profile: ${profiled.length} of ${examples.length}; errors reported by this validator on them: ${ourErrors}`);
  out(`@medplum/core cannot load ${medplumCannot.length} IPS profiles: ${medplumCannot.join('; ')}`);
  out(`compared on the ${comparable.length} examples whose claimed profiles both load (${RUNS} runs of ${RUN_MS} ms each):`);
  out(`this server (base + invariants + profiles): ${ours.toFixed(0)} resources/s`);
  out(`@medplum/core validateResource, same profiles: ${theirs.toFixed(0)} resources/s`);
  out(`ratio: ${(ours / theirs).toFixed(1)}x`);
  out(`start-up with the IPS package: load (untar + read + compile ${ipsDefinitions.size} StructureDefinitions) ${loadedMs.toFixed(0)} ms; first validation of every example (lazy invariant/schema compiles) ${(coldMs - loadedMs).toFixed(0)} ms; second pass ${warmMs.toFixed(1)} ms`);
  out(`heap held by validator + compiled IPS profiles: ${heapMb.toFixed(1)} MB${global.gc ? '' : ' (run with node --expose-gc for a cleaner figure)'}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
