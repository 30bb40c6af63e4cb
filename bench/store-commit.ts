/**
 * Transactions per second on the on-disk embedded store (LMDB) with the server's indexes: single-document
 * transactions at concurrency 1 and 32 (group commit shares one LMDB commit and its sync among the
 * transactions that queued up), and 300-document transactions one after another (what a transaction bundle
 * of 300 entries is to the store). Prints medians of several runs, with the CPU time of the process (all
 * threads: lmdb-js commits on its own thread) per document.
 * Run: npx tsx bench/store-commit.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyIndexes, resourceIndexes } from '../src/search/indexes';
import { openLmdbStore } from '../src/storage/embedded/lmdb-store';
import { median, resourceRecord } from './store-fixtures';

const RUNS = 5;
const CASES = [
  { name: 'single-document transactions, concurrency  1', concurrency: 1, perTransaction: 1, documents: 400 },
  { name: 'single-document transactions, concurrency 32', concurrency: 32, perTransaction: 1, documents: 4000 },
  { name: '300-document transactions,    concurrency  1', concurrency: 1, perTransaction: 300, documents: 6000 },
];

async function run({ concurrency, perTransaction, documents }: (typeof CASES)[number], offset: number): Promise<{ perSecond: number; cpuMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'store-commit-'));
  const store = await openLmdbStore({ dataDir: dir });
  await store.ensureIndexes('resources', resourceIndexes);
  await store.ensureIndexes('history', historyIndexes);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < documents) {
        const docs = Array.from({ length: perTransaction }, () => resourceRecord(offset + next++));
        await store.transaction(async (tx) => {
          for (const doc of docs) await tx.insert('resources', doc);
        });
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSecond: documents / seconds, cpuMs: (used.user + used.system) / 1000 / documents };
}

async function main(): Promise<void> {
  for (const c of CASES) {
    const results: Array<{ perSecond: number; cpuMs: number }> = [];
    for (let i = 0; i < RUNS; i++) results.push(await run(c, i * 100_000));
    const rates = results.map((r) => r.perSecond);
    console.log(
      `${c.name}: median ${median(rates).toFixed(0)} documents/s over ${RUNS} runs (${rates.map((r) => r.toFixed(0)).join(', ')}), ` +
        `CPU ${median(results.map((r) => r.cpuMs)).toFixed(3)} ms per document`,
    );
  }
}

void main();
