/**
 * Runs search criteria end to end against the in-memory embedded store: resources are seeded with the real
 * extractor, queries compiled by CriteriaCompiler and executed with store.find.
 */
import type { FhirResource as Resource } from 'fhir/r4';
import { CriteriaCompiler } from '../../../../src/search/criteria';
import { IndexExtractor } from '../../../../src/search/extract';
import { SearchRegistry } from '../../../../src/search/registry';
import { openTestStore } from '../../../fixtures/store';
import type { Store } from '../../../../src/storage/port';
import { RESOURCES } from '../../../../src/storage/records';
import { seed } from '../../../fixtures/seed';

export const BASE_URL = 'http://127.0.0.1:8080/fhir';
export const NOW = '2024-06-01T00:00:00.000Z';

let registry: SearchRegistry | undefined;

export interface Harness {
  store: Store;
  compiler: CriteriaCompiler;
  /** Sorted ids of the resources of `type` matching the query string (`a=1&b=2`, values URL-encoded). */
  ids(type: string | undefined, query: string, handling?: 'strict' | 'lenient'): Promise<string[]>;
  close(): Promise<void>;
}

export async function harness(resources: Resource[], options: { maxChainResults?: number } = {}): Promise<Harness> {
  registry ??= SearchRegistry.loadBase();
  const store = await openTestStore();
  await seed(store, new IndexExtractor(registry, { baseUrl: BASE_URL }), resources);
  const compiler = new CriteriaCompiler({ store, registry, baseUrl: BASE_URL, clock: { now: () => NOW }, ...options });
  return {
    store,
    compiler,
    async ids(type, query, handling = 'strict') {
      const { filter } = await compiler.compile(type, parseQuery(query), handling);
      const docs = await store.find(RESOURCES, filter, { projection: { _id: 1 } });
      return docs.map((d) => (type === undefined ? d._id : d._id.slice(type.length + 1))).sort();
    },
    close: () => store.close(),
  };
}

export function parseQuery(query: string): Array<[string, string]> {
  if (query === '') return [];
  return query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return [decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1))];
  });
}
