/**
 * The profile registry at start-up and afterwards: everything in profiles/ (JSON files and FHIR packages), then the
 * conformance resources stored on the server; StructureDefinitions, ValueSets and CodeSystems created or updated
 * through the API take effect once their write commits (a broken profile is refused with 422 before it is written).
 */
import type { StoreReader } from '../storage/port';
import { RESOURCES, type ResourceRecord } from '../storage/records';
import { FhirError } from '../core/errors';
import { CONFORMANCE_TYPES, loadConformanceDir, type LoadProblem } from './conformance-loader';
import { ProfileRegistry, type ProfileOptions } from './profiles';
import type { StructureDefinition } from 'fhir/r4';
import { baseDefinitions } from './base-elements';
import { ProfileCache } from './profile-cache';

/** Definitions first (ValueSets and CodeSystems do not depend on profiles). */
const order = (type: string): number => (type === 'StructureDefinition' ? 1 : 0);

/** Profiles are validated by constraint StructureDefinitions; base types and logical models are not profiles. */
const isProfile = (r: { resourceType: string; derivation?: string }): boolean => r.resourceType !== 'StructureDefinition' || r.derivation === 'constraint';

/** `cacheDir`: where compiled profiles and read packages are kept across restarts (DATA_DIR/profile-cache). */
export async function loadProfiles(
  dir: string,
  store: StoreReader,
  options: ProfileOptions,
  cacheDir?: string,
): Promise<{ registry: ProfileRegistry; problems: LoadProblem[]; loaded: number }> {
  const cache = cacheDir ? new ProfileCache(cacheDir) : undefined;
  const registry = new ProfileRegistry(options, baseDefinitions, cache);
  const { resources, problems } = loadConformanceDir(dir, cache);
  let loaded = 0;
  const files = new Map<string, string>();
  const stored = (await store.find(RESOURCES, { type: { $in: [...CONFORMANCE_TYPES] }, deleted: false })) as ResourceRecord[];
  const all = [...resources, ...stored.map((r) => ({ resource: r.resource as unknown as { resourceType: string }, file: `stored ${r.type}/${r.id}` }))];
  for (const { resource, file } of all.sort((a, b) => order(a.resource.resourceType) - order(b.resource.resourceType))) {
    if (!isProfile(resource as { resourceType: string; derivation?: string })) continue;
    try {
      registry.add(resource);
      loaded++;
      if (resource.resourceType === 'StructureDefinition') files.set((resource as StructureDefinition).url!, file);
    } catch (err) {
      const url = (resource as { url?: string }).url ?? '(no url)';
      problems.push({ severity: 'error', file, message: `${resource.resourceType} ${url} cannot be used: ${(err as Error).message}` });
    }
  }
  // Compiled once all are added: a profile may build on one that comes later. A broken one is reported and removed.
  for (const [url, file] of files) {
    try {
      registry.compile(url);
    } catch (err) {
      registry.remove(url);
      loaded--;
      problems.push({ severity: 'error', file, message: `StructureDefinition ${url} cannot be used: ${(err as Error).message}` });
    }
  }
  return { registry, problems, loaded };
}

/** Write hook (src/fhir/write-hooks.ts): refuses a profile that cannot be compiled, activates conformance resources once committed. */
export function profileHook(registry: ProfileRegistry): { beforeWrite(record: ResourceRecord): void; afterCommit(records: ResourceRecord[]): void } {
  const conformance = (r: ResourceRecord): { resourceType: string } | undefined =>
    !r.deleted && r.resource && CONFORMANCE_TYPES.has(r.type) && isProfile(r.resource as { resourceType: string }) ? (r.resource as { resourceType: string }) : undefined;
  return {
    beforeWrite(record) {
      const resource = conformance(record);
      if (resource?.resourceType !== 'StructureDefinition') return;
      try {
        registry.check(resource as StructureDefinition);
      } catch (err) {
        throw new FhirError('unprocessable', `StructureDefinition ${(resource as { url?: string }).url ?? ''} cannot be used as a profile: ${(err as Error).message}`);
      }
    },
    afterCommit(records) {
      for (const record of records) {
        const resource = conformance(record);
        if (resource) registry.add(resource);
      }
    },
  };
}
