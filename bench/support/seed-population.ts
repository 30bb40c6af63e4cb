/**
 * Writes the synthetic population (population.ts) straight into a store as version 1 of each resource, with the
 * index entries and compartments the write path extracts and the record layout of src/storage/records.ts, in
 * transactions of 10 patients. Skips validation and the router, so a 1,000,000-resource store is written in
 * minutes rather than the half hour bench/support/populate.ts takes on a loaded machine; for benchmarks that
 * only read (bench/export.ts --in-process).
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

export async function seedPopulation(store: Store, patients: number, baseUrl: string, log: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const definitionsDir = join(ROOT, 'generated');
  const indexer = new IndexExtractor(SearchRegistry.loadBase({ definitionsDir }), { baseUrl, compartments: CompartmentDefinitions.load({ definitionsDir }) });
  let clock = Date.parse('2025-01-01T00:00:00.000Z');
  let written = 0;
  const started = Date.now();
  for (let first = 0; first < patients; first += 10) {
    const resources: Resource[] = [];
    for (let n = first; n < Math.min(patients, first + 10); n++) resources.push(...patientBundle(n));
    await store.transaction(async (tx) => {
      for (const body of resources) {
        const lastUpdated = new Date(clock++).toISOString();
        const resource = { ...body, meta: { versionId: '1', lastUpdated } } as Resource;
        const { idx, compartments } = indexer.extract(resource);
        const type = resource.resourceType;
        const id = resource.id as string;
        const record: ResourceRecord = { _id: resourceKey(type, id), type, id, versionId: 1, lastUpdated, deleted: false, resource, idx, compartments };
        const history: HistoryRecord = { _id: historyKey(type, id, 1), type, id, versionId: 1, lastUpdated, deleted: false, method: 'PUT', resource: null };
        await tx.insert(RESOURCES, record);
        await tx.insert(HISTORY, history);
      }
    });
    written += resources.length;
    if (written % 100_000 === 0) log(`  ${written} resources, ${((written * 1000) / (Date.now() - started)).toFixed(0)}/s\n`);
  }
  return written;
}
