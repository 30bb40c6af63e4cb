/**
 * Latency of the search engine's query shapes on an in-memory embedded store holding N ResourceRecord-shaped
 * documents (default 200,000): selective token / reference / date queries and the newest-first page of a type,
 * and reads by `_id` (the direct lookup, and one that also names another field so mingo compiles it).
 * Prints the median and 95th percentile per shape. Run: npx tsx bench/store-query.ts [documents]
 */
import { openEmbeddedStore } from '../src/storage/embedded/embedded-store';
import type { Filter, FindOptions } from '../src/storage/port';
import { RESOURCE_INDEX_SPECS, median, resourceRecord } from './store-fixtures';

const DOCUMENTS = Number(process.argv[2] ?? 200_000);
const REPEATS = 200;

async function main(): Promise<void> {
  const store = await openEmbeddedStore();
  await store.ensureIndexes('resources', RESOURCE_INDEX_SPECS);
  const t0 = performance.now();
  for (let start = 0; start < DOCUMENTS; start += 1000) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(DOCUMENTS, start + 1000); i++) await tx.insert('resources', resourceRecord(i));
    });
  }
  console.log(`loaded ${DOCUMENTS} documents with ${RESOURCE_INDEX_SPECS.length} indexes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const shapes: Array<[string, (i: number) => [Filter, FindOptions]]> = [
    ['token code=system|code', (i) => [{ type: 'Observation', deleted: false, 'idx.tok': { $elemMatch: { p: 'code', s: 'http://loinc.org', c: `${1000 + (i % 700)}-${i % 10}` } } }, { limit: 20 }]],
    ['reference subject=Patient/x', (i) => [{ type: 'Observation', deleted: false, 'idx.ref': { $elemMatch: { p: 'subject', r: `Patient/p${i % 5000}` } } }, { sort: [['lastUpdated', -1]], limit: 20 }]],
    ['date range (1 hour)', (i) => {
      const from = new Date(Date.UTC(2024, 0, 1) + (i % 100) * 3_600_000);
      const to = new Date(from.getTime() + 3_600_000);
      return [{ type: 'Observation', deleted: false, 'idx.date': { $elemMatch: { p: 'date', lo: { $gte: from.toISOString(), $lt: to.toISOString() } } } }, { limit: 20 }];
    }],
    ['newest 20 of a type', () => [{ type: 'Observation', deleted: false }, { sort: [['lastUpdated', -1]], limit: 20 }]],
    ['patient compartment', (i) => [{ compartments: `Patient/p${i % 5000}`, type: 'Observation', deleted: false }, { limit: 50 }]],
  ];
  for (const [label, make] of shapes) {
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < REPEATS; i++) {
      const [filter, options] = make(i * 37);
      const t = performance.now();
      found += (await store.find('resources', filter, options)).length;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`${label.padEnd(30)} median ${median(times).toFixed(2)} ms, p95 ${times[Math.floor(times.length * 0.95)].toFixed(2)} ms (avg ${(found / REPEATS).toFixed(1)} results)`);
  }
  const reads: Array<[string, (i: number) => Filter]> = [
    ['findOne {_id}', (i) => ({ _id: `Observation/obs-${i % DOCUMENTS}` })],
    ['findOne {_id, deleted} (compiled matcher)', (i) => ({ _id: `Observation/obs-${i % DOCUMENTS}`, deleted: false })],
  ];
  for (const [label, make] of reads) {
    const runs: number[] = [];
    for (let run = 0; run < 5; run++) {
      const t = performance.now();
      for (let i = 0; i < 20_000; i++) await store.findOne('resources', make(i * 37));
      runs.push(((performance.now() - t) * 1000) / 20_000);
    }
    console.log(`${label.padEnd(30)} median ${median(runs).toFixed(2)} µs per read`);
  }
  await store.close();
}

void main();
