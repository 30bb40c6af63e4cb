/**
 * Single-document transactions per second on the on-disk embedded store (LMDB), at concurrency 1 and 32
 * (group commit shares one LMDB commit and its sync among concurrent transactions), with the CPU time (all
 * threads) per transaction. Prints the median of several runs.
 * Run: npx tsx bench/store-commit.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdbStore } from '../src/storage/embedded/lmdb-store';
import { median, resourceRecord } from './store-fixtures';

const RUNS = 5;
const TRANSACTIONS: Record<number, number> = { 1: 400, 32: 4000 };

async function run(concurrency: number, offset: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'store-commit-'));
  const store = await openLmdbStore({ dataDir: dir });
  const total = TRANSACTIONS[concurrency];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const doc = resourceRecord(offset + next++);
        await store.transaction((tx) => tx.insert('resources', doc));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return total / seconds;
}

async function main(): Promise<void> {
  const results: Record<number, number> = {};
  for (const concurrency of [1, 32]) {
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) rates.push(await run(concurrency, i * 100_000));
    results[concurrency] = median(rates);
    console.log(`concurrency ${String(concurrency).padStart(2)}: median ${median(rates).toFixed(0)} tx/s over ${RUNS} runs (${rates.map((r) => r.toFixed(0)).join(', ')})`);
  }
  console.log(`group commit speed-up (32 vs 1): ${(results[32] / results[1]).toFixed(1)}x`);
}

void main();
