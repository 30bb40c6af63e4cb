/**
 * Cost of snapshot-consistent paging (src/search/results/snapshot.ts) on the in-memory embedded store:
 * median ms per page of `Patient?_sort=family&_count=50` over 5,000 Patients, for the first page, for a later
 * page with nothing written since the snapshot (baseline), and for a later page after 100 / 500 updates
 * since the snapshot (each one re-read from history, re-indexed and matched in process). Median of several runs.
 * Run: npx tsx bench/search-paging.ts [patients=5000] [runs=7]
 */
import type { Patient, Resource } from 'fhir/r4';
import { monotonicClock } from '../src/core/clock';
import { CriteriaCompiler } from '../src/search/criteria';
import { IndexExtractor } from '../src/search/extract';
import { historyIndexes, resourceIndexes } from '../src/search/indexes';
import { SearchRegistry } from '../src/search/registry';
import { SearchService } from '../src/search/service';
import { createStore } from '../src/storage/create-store';
import { HISTORY, RESOURCES, historyKey, resourceKey, type ResourceRecord } from '../src/storage/records';

const BASE = 'http://bench.example/fhir';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function main(): Promise<void> {
  const [patients = 5000, runs = 7] = process.argv.slice(2).map(Number);
  const registry = SearchRegistry.loadBase();
  const extractor = new IndexExtractor(registry, { baseUrl: BASE });
  const store = await createStore({});
  await store.ensureIndexes(RESOURCES, resourceIndexes);
  await store.ensureIndexes(HISTORY, historyIndexes);
  const clock = monotonicClock();
  const criteria = new CriteriaCompiler({ store, registry, baseUrl: BASE });
  const service = new SearchService({ store, registry, criteria, baseUrl: BASE, defaultCount: 50, maxCount: 500, clock, indexer: extractor });

  const versions = new Map<string, number>();
  async function put(batch: Patient[]): Promise<void> {
    await store.transaction(async (tx) => {
      for (const body of batch) {
        const versionId = (versions.get(body.id!) ?? 0) + 1;
        versions.set(body.id!, versionId);
        const lastUpdated = clock.now();
        const resource = { ...body, meta: { versionId: String(versionId), lastUpdated } } as Resource;
        const { idx, compartments } = extractor.extract(resource);
        const record: ResourceRecord = { _id: resourceKey('Patient', body.id!), type: 'Patient', id: body.id!, versionId, lastUpdated, deleted: false, resource, idx, compartments };
        if (versionId === 1) await tx.insert(RESOURCES, record);
        else await tx.replace(RESOURCES, record);
        await tx.insert(HISTORY, { _id: historyKey('Patient', body.id!, versionId), type: 'Patient', id: body.id!, versionId, lastUpdated, deleted: false, method: 'PUT', resource });
      }
    });
  }
  const patient = (i: number, suffix = ''): Patient => ({
    resourceType: 'Patient',
    id: `p${i}`,
    name: [{ family: `Family${String((i * 7919) % patients).padStart(6, '0')}${suffix}`, given: ['Bench'] }],
    gender: i % 2 ? 'female' : 'male',
    birthDate: `19${String(10 + (i % 90)).padStart(2, '0')}-01-01`,
  });
  for (let i = 0; i < patients; i += 500) await put(Array.from({ length: Math.min(500, patients - i) }, (_, k) => patient(i + k)));

  const query: Array<[string, string]> = [['_sort', 'family'], ['_count', '50']];
  const time = async (work: () => Promise<unknown>): Promise<number> => {
    const t = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const nextQuery = (url: string): Array<[string, string]> => [...new URL(url).searchParams];

  const first: number[] = [];
  const later: Record<number, number[]> = { 0: [], 100: [], 500: [] };
  let round = 0;
  for (let r = 0; r < runs; r++) {
    for (const changes of [0, 100, 500]) {
      let page1!: Awaited<ReturnType<SearchService['search']>>;
      first.push(await time(async () => (page1 = await service.search({ resourceType: 'Patient' }, query, 'strict'))));
      round++;
      if (changes) await put(Array.from({ length: changes }, (_, k) => patient((k * 37 + round) % patients, `u${round}`)));
      const next = page1.link!.find((l) => l.relation === 'next')!.url;
      const page2 = await service.search({ resourceType: 'Patient' }, nextQuery(next), 'strict');
      const third = page2.link!.find((l) => l.relation === 'next')!.url;
      later[changes].push(await time(() => service.search({ resourceType: 'Patient' }, nextQuery(third), 'strict')));
    }
  }
  const base = median(later[0]);
  process.stdout.write(`search paging, ${patients} Patients, _sort=family&_count=50, embedded in-memory store, median of ${runs} runs\n`);
  process.stdout.write(`  first page:                               ${median(first).toFixed(1)} ms\n`);
  process.stdout.write(`  later page, 0 writes since snapshot:      ${base.toFixed(1)} ms (baseline)\n`);
  for (const changes of [100, 500]) {
    const m = median(later[changes]);
    process.stdout.write(`  later page, ${String(changes).padStart(3)} updates since snapshot:  ${m.toFixed(1)} ms (x${(m / base).toFixed(2)})\n`);
  }
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
