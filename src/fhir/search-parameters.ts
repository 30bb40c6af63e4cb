/**
 * SearchParameter resources become active search parameters (https://hl7.org/fhir/R4/searchparameter.html):
 * those in profiles/ at start-up, those stored on the server at start-up, and those created or updated through
 * the API once their write commits. Existing data is brought up to date with $reindex.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle, SearchParameter } from 'fhir/r4';
import type { SearchRegistry } from '../search/registry';
import type { StoreReader } from '../storage/port';
import { RESOURCES, type ResourceRecord } from '../storage/records';
import type { WriteHook } from './write-hooks';

/** Refuses SearchParameters the registry cannot use (422) and activates the others after commit. */
export function searchParameterHook(registry: SearchRegistry): WriteHook {
  const isLiveSearchParameter = (r: ResourceRecord): boolean => r.type === 'SearchParameter' && !r.deleted && r.resource !== null;
  return {
    beforeWrite(record) {
      if (isLiveSearchParameter(record)) registry.check(record.resource as SearchParameter);
    },
    afterCommit(records) {
      for (const record of records) if (isLiveSearchParameter(record)) registry.add(record.resource as SearchParameter);
    },
  };
}

/** Every SearchParameter in the JSON files under `dir` (resources or Bundles of them). */
export function searchParametersInProfiles(dir: string): Array<{ file: string; parameter: SearchParameter }> {
  if (!fs.existsSync(dir)) return [];
  const found: Array<{ file: string; parameter: SearchParameter }> = [];
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json')) {
        const content = JSON.parse(fs.readFileSync(full, 'utf8')) as SearchParameter | Bundle;
        const resources = content.resourceType === 'Bundle' ? (content.entry ?? []).map((e) => e.resource) : [content];
        for (const r of resources) if (r?.resourceType === 'SearchParameter') found.push({ file: full, parameter: r });
      }
    }
  };
  walk(dir);
  return found;
}

/** Activates the SearchParameters of profiles/ and of the store; a profile the registry refuses stops start-up. */
export async function activateSearchParameters(registry: SearchRegistry, store: StoreReader, profilesDir: string): Promise<number> {
  let count = 0;
  for (const { file, parameter } of searchParametersInProfiles(profilesDir)) {
    try {
      registry.add(parameter);
    } catch (err) {
      throw new Error(`SearchParameter ${parameter.url ?? parameter.id ?? ''} in ${file} cannot be used: ${(err as Error).message}`);
    }
    count++;
  }
  const stored = (await store.find(RESOURCES, { type: 'SearchParameter', deleted: false })) as ResourceRecord[];
  for (const record of stored) {
    registry.add(record.resource as SearchParameter);
    count++;
  }
  return count;
}
