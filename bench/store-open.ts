/**
 * Open (recovery) time of an on-disk embedded store: empty, and with 100,000 ResourceRecord-shaped documents
 * of about 2 KB, once from the journal alone and once after compaction (snapshot); plus the time to build the
 * server's search indexes (src/search/indexes.ts). Prints the median of several runs.
 * Run: npx tsx bench/store-open.ts [documents]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../src/storage/embedded/embedded-store';
import { resourceIndexes } from '../src/search/indexes';
import { median, resourceRecord } from './store-fixtures';

const RUNS = 3;
const DOCUMENTS = Number(process.argv[2] ?? 100_000);
const NO_COMPACTION = Number.MAX_SAFE_INTEGER;

const dirBytes = (dir: string): number => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);

async function fill(dir: string, count: number): Promise<void> {
  const store = await openEmbeddedStore({ dataDir: dir, compactAfterBytes: NO_COMPACTION });
  for (let start = 0; start < count; start += 500) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(count, start + 500); i++) await tx.insert('resources', resourceRecord(i));
    });
  }
  await store.close();
}

async function compact(dir: string): Promise<void> {
  const store = await openEmbeddedStore({ dataDir: dir, compactAfterBytes: 1 });
  await store.transaction((tx) => tx.insert('resources', resourceRecord(DOCUMENTS)));
  await store.close();
}

async function timeOpen(dir: string, withIndexes: boolean): Promise<{ openMs: number; indexMs: number; count: number }> {
  const t0 = performance.now();
  const store = await openEmbeddedStore({ dataDir: dir, compactAfterBytes: NO_COMPACTION });
  const t1 = performance.now();
  if (withIndexes) await store.ensureIndexes('resources', resourceIndexes);
  const t2 = performance.now();
  const count = await store.count('resources', {});
  await store.close();
  return { openMs: t1 - t0, indexMs: t2 - t1, count };
}

async function measure(label: string, dir: string, withIndexes: boolean): Promise<void> {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timeOpen(dir, withIndexes));
  const open = median(runs.map((r) => r.openMs));
  const index = median(runs.map((r) => r.indexMs));
  const size = (dirBytes(dir) / 2 ** 20).toFixed(1);
  console.log(
    `${label.padEnd(34)} ${String(runs[0].count).padStart(7)} docs, ${size.padStart(7)} MiB on disk: open ${open.toFixed(0)} ms` +
      (withIndexes ? `, build ${resourceIndexes.length} indexes ${index.toFixed(0)} ms` : ''),
  );
}

async function main(): Promise<void> {
  const empty = mkdtempSync(join(tmpdir(), 'store-open-'));
  const full = mkdtempSync(join(tmpdir(), 'store-open-'));
  try {
    await measure('empty store', empty, false);
    const t0 = performance.now();
    await fill(full, DOCUMENTS);
    console.log(`(wrote ${DOCUMENTS} documents in ${((performance.now() - t0) / 1000).toFixed(1)} s, 500 per transaction)`);
    await measure('journal only', full, true);
    const t1 = performance.now();
    await compact(full);
    console.log(`(compaction took ${((performance.now() - t1) / 1000).toFixed(1)} s)`);
    await measure('after compaction (snapshot)', full, true);
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(full, { recursive: true, force: true });
  }
}

void main();
