/**
 * Child of bench/restart-after-crashes.ts: opens an embedded store (from the `src` folder given, so another
 * checkout can be measured the same way), prints "ready <open ms>", then rewrites a fixed set of documents
 * until a compaction starts (a new journal generation appears) and prints "compacting"; the parent kills it then.
 * Usage: node --import tsx compaction-crash-writer.ts <srcDir> <dataDir> <compactAfterBytes> <documents>
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resourceRecord } from '../store-fixtures';

const generations = (dir: string): number[] => readdirSync(dir).flatMap((n) => /^journal-(\d+)\.log$/.exec(n)?.[1] ?? []).map(Number);

async function main(): Promise<void> {
  const [srcDir, dataDir, compactArg, documentsArg] = process.argv.slice(2);
  const { openEmbeddedStore } = (await import(join(srcDir, 'storage/embedded/embedded-store.ts'))) as typeof import('../../src/storage/embedded/embedded-store');
  const started = performance.now();
  const store = await openEmbeddedStore({ dataDir, compactAfterBytes: Number(compactArg), onWarning: () => undefined });
  process.stdout.write(`ready ${(performance.now() - started).toFixed(0)}\n`);
  const newestAtOpen = Math.max(0, ...generations(dataDir));
  const watch = setInterval(() => {
    if (Math.max(0, ...generations(dataDir)) > newestAtOpen) {
      process.stdout.write('compacting\n');
      clearInterval(watch);
    }
  }, 2);
  const documents = Number(documentsArg);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const start = next;
      next += 50;
      await store.transaction(async (tx) => {
        for (let i = start; i < start + 50; i++) {
          const doc = resourceRecord(i % documents);
          if (await tx.findOne('resources', { _id: doc._id })) await tx.replace('resources', doc);
          else await tx.insert('resources', doc);
        }
      });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

void main();
