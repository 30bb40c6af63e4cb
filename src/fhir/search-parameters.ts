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

/**
 * Only active SearchParameters with an expression are indexed; others (drafts, retired ones, and definitions
 * without an expression such as _text or xpath-only extension parameters) are stored as plain definitions.
 */
export function isIndexable(sp: SearchParameter): boolean {
  return sp.status === 'active' && typeof sp.expression === 'string' && sp.expression !== '';
}

const indexableIn = (r: ResourceRecord): SearchParameter | undefined =>
  r.type === 'SearchParameter' && !r.deleted && r.resource && isIndexable(r.resource as SearchParameter) ? (r.resource as SearchParameter) : undefined;

/** Refuses active SearchParameters the registry cannot index (422) and activates them once their write commits. */
export function searchParameterHook(registry: SearchRegistry): WriteHook {
  return {
    beforeWrite(record) {
      const sp = indexableIn(record);
      if (sp) registry.check(sp);
    },
    afterCommit(records) {
      for (const record of records) {
        const sp = indexableIn(record);
        if (sp) registry.add(sp);
      }
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

/**
 * Activates the indexable SearchParameters of profiles/ and of the store. A profile the registry refuses stops
 * start-up (it is the operator's file); a stored one that no longer fits is skipped and returned.
 */
export async function activateSearchParameters(
  registry: SearchRegistry,
  store: StoreReader,
  profilesDir: string,
): Promise<{ activated: number; skipped: Array<{ id: string; reason: string }> }> {
  let activated = 0;
  const skipped: Array<{ id: string; reason: string }> = [];
  for (const { file, parameter } of searchParametersInProfiles(profilesDir)) {
    if (!isIndexable(parameter)) continue;
    try {
      registry.add(parameter);
    } catch (err) {
      throw new Error(`SearchParameter ${parameter.url ?? parameter.id ?? ''} in ${file} cannot be used: ${(err as Error).message}`);
    }
    activated++;
  }
  const stored = (await store.find(RESOURCES, { type: 'SearchParameter', deleted: false })) as ResourceRecord[];
  for (const record of stored) {
    const sp = indexableIn(record);
    if (!sp) continue;
    try {
      registry.add(sp);
      activated++;
    } catch (err) {
      skipped.push({ id: record.id, reason: (err as Error).message });
    }
  }
  return { activated, skipped };
}
