/**
 * Writes the synthetic population (population.ts) straight into a store as version 1 of each resource, with the
 * index entries and compartments the write path extracts and the record layout of src/storage/records.ts
 * (bodies stamped as src/fhir/persist.ts writeVersion stamps them: resourceType, id, meta first), in large
 * transactions through the storage port. Skips validation and the router, so a 1,000,000-resource store is
 * written in minutes rather than the half hour bench/support/populate.ts takes on a loaded machine.
 */
import { join } from 'node:path';
import type { Resource } from 'fhir/r4';
import { CompartmentDefinitions } from '../../src/search/compartments';
import { IndexExtractor } from '../../src/search/extract';
import { SearchRegistry } from '../../src/search/registry';
import type { Store } from '../../src/storage/port';
import { HISTORY, RESOURCES, historyKey, resourceKey, type HistoryRecord, type ResourceRecord } from '../../src/storage/records';
import { patientBundle } from './population';
import { ROOT } from './processes';

export interface SeedOptions {
  /** Patients (about 100 resources each) per store transaction; default 10. */
  patientsPerTransaction?: number;
  log?: (s: string) => void;
}

export async function seedPopulation(store: Store, patients: number, baseUrl: string, options: SeedOptions = {}): Promise<number> {
  const log = options.log ?? ((s: string) => void process.stdout.write(s));
  const perTransaction = options.patientsPerTransaction ?? 10;
  const definitionsDir = join(ROOT, 'generated');
  const indexer = new IndexExtractor(SearchRegistry.loadBase({ definitionsDir }), { baseUrl, compartments: CompartmentDefinitions.load({ definitionsDir }) });
  let clock = Date.parse('2025-01-01T00:00:00.000Z');
  let written = 0;
  let reported = 0;
  const started = Date.now();
  // Two transactions at a time: the next one stages its writes while the previous one's commit is synced.
  let previous: Promise<void> = Promise.resolve();
  for (let first = 0; first < patients; first += perTransaction) {
    const resources: Resource[] = [];
    for (let n = first; n < Math.min(patients, first + perTransaction); n++) resources.push(...patientBundle(n));
    const committed = store.transaction(async (tx) => {
      for (const { resourceType, id, meta, ...content } of resources) {
        const lastUpdated = new Date(clock++).toISOString();
        const resource = { resourceType, id, meta: { ...meta, versionId: '1', lastUpdated }, ...content } as Resource;
        const { idx, compartments } = indexer.extract(resource);
        const record: ResourceRecord = { _id: resourceKey(resourceType, id as string), type: resourceType, id: id as string, versionId: 1, lastUpdated, deleted: false, resource, idx, compartments };
        const history: HistoryRecord = { _id: historyKey(resourceType, id as string, 1), type: resourceType, id: id as string, versionId: 1, lastUpdated, deleted: false, method: 'PUT', resource: null };
        await tx.insert(RESOURCES, record);
        await tx.insert(HISTORY, history);
      }
    });
    await previous;
    previous = committed;
    written += resources.length;
    if (written - reported >= 100_000) {
      reported = written;
      log(`  ${written} resources, ${((written * 1000) / (Date.now() - started)).toFixed(0)}/s\n`);
    }
  }
  await previous;
  return written;
}
