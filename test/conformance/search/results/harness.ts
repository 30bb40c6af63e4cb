/**
 * A search service over the in-memory embedded store, with a writer that stores versions the way the REST
 * interactions do (current record + history entry in one transaction) and a clock that advances one second per call.
 */
import type { Bundle, FhirResource, Resource } from 'fhir/r4';
import type { Clock } from '../../../../src/core/clock';
import { CriteriaCompiler } from '../../../../src/search/criteria';
import { IndexExtractor } from '../../../../src/search/extract';
import { SearchRegistry } from '../../../../src/search/registry';
import { SearchService, type SearchLimits, type SearchTarget } from '../../../../src/search/service';
import { historyIndexes, resourceIndexes } from '../../../../src/search/indexes';
import { openTestStore } from '../../../fixtures/store';
import type { Store } from '../../../../src/storage/port';
import { HISTORY, RESOURCES, historyKey, resourceKey, type HistoryRecord, type ResourceRecord } from '../../../../src/storage/records';

export const BASE = 'http://example.org/fhir';

let registry: SearchRegistry | undefined;
let extractor: IndexExtractor | undefined;

export interface Harness {
  store: Store;
  service: SearchService;
  clock: Clock;
  /** Creates or updates (next version) a resource that carries its id. */
  put(resource: FhirResource): Promise<void>;
  remove(type: string, id: string): Promise<void>;
  search(target: SearchTarget, query: string, handling?: 'strict' | 'lenient'): Promise<Bundle>;
  /** Follows a link URL produced by the service (same target, its query string). */
  follow(target: SearchTarget, url: string): Promise<Bundle>;
  close(): Promise<void>;
}

export function steppingClock(start = '2024-01-01T00:00:00.000Z'): Clock {
  let t = Date.parse(start);
  return { now: () => new Date((t += 1000)).toISOString() };
}

export async function createHarness(options: { limits?: Partial<SearchLimits>; defaultCount?: number; maxCount?: number } = {}): Promise<Harness> {
  registry ??= SearchRegistry.loadBase();
  extractor ??= new IndexExtractor(registry, { baseUrl: BASE });
  const store = await openTestStore();
  await store.ensureIndexes(RESOURCES, resourceIndexes);
  await store.ensureIndexes(HISTORY, historyIndexes);
  const clock = steppingClock();
  const criteria = new CriteriaCompiler({ store, registry, baseUrl: BASE, clock });
  const service = new SearchService({
    store,
    registry,
    criteria,
    baseUrl: BASE,
    defaultCount: options.defaultCount ?? 10,
    maxCount: options.maxCount ?? 50,
    clock,
    indexer: extractor,
    pageTokenSecret: 'test-secret',
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const index = extractor;

  async function write(type: string, id: string, resource: Resource | null): Promise<void> {
    await store.transaction(async (tx) => {
      const previous = (await tx.findOne(RESOURCES, { _id: resourceKey(type, id) })) as ResourceRecord | null;
      const versionId = previous ? previous.versionId + 1 : 1;
      const lastUpdated = clock.now();
      const stored = resource ? ({ ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated } } as Resource) : null;
      const { idx, compartments } = stored ? index.extract(stored) : { idx: {}, compartments: [] };
      const record: ResourceRecord = { _id: resourceKey(type, id), type, id, versionId, lastUpdated, deleted: !stored, resource: stored, idx, compartments };
      if (previous) await tx.replace(RESOURCES, record);
      else await tx.insert(RESOURCES, record);
      // Layout of src/storage/records.ts: the superseded version's entry takes its body, the new entry has none.
      if (previous?.resource) {
        const entry = (await tx.findOne(HISTORY, { _id: historyKey(type, id, previous.versionId) })) as HistoryRecord;
        await tx.replace(HISTORY, { ...entry, resource: previous.resource });
      }
      await tx.insert(HISTORY, {
        _id: historyKey(type, id, versionId),
        type,
        id,
        versionId,
        lastUpdated,
        deleted: !stored,
        method: !stored ? 'DELETE' : previous ? 'PUT' : 'POST',
        resource: null,
      });
    });
  }

  const parse = (query: string): Array<[string, string]> => [...new URLSearchParams(query)];
  return {
    store,
    service,
    clock,
    put: (resource) => write(resource.resourceType, resource.id!, resource),
    remove: (type, id) => write(type, id, null),
    search: (target, query, handling = 'lenient') => service.search(target, parse(query), handling),
    follow: (target, url) => service.search(target, parse(new URL(url).search), 'strict'),
    close: () => store.close(),
  };
}

/** `Type/id` of the entries with this search mode, in bundle order. */
export function keys(bundle: Bundle, mode: 'match' | 'include' | 'outcome' = 'match'): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
}

export function linkOf(bundle: Bundle, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}
