/**
 * Child process for the crash test: opens the embedded store (LMDB) and commits transactions of 1-3 documents
 * as fast as it can (several at a time, so group commit runs), printing "ack <tx> <parts>" only after
 * transaction() resolved. The parent kills it with SIGKILL at a random moment.
 * Usage: node --import tsx crash-writer.ts <dataDir> <firstTx>
 */
import { openLmdbStore } from '../../src/storage/embedded/lmdb-store';

async function main(): Promise<void> {
  const [dataDir, firstTxArg] = process.argv.slice(2);
  const store = await openLmdbStore({ dataDir });
  process.stdout.write('ready\n');
  let next = Number(firstTxArg);
  const padding = 'x'.repeat(300);
  const worker = async (): Promise<void> => {
    for (;;) {
      const tx = next++;
      const parts = 1 + (tx % 3);
      await store.transaction(async (t) => {
        for (let part = 0; part < parts; part++) await t.insert('docs', { _id: `${tx}/${part}`, tx, parts, padding });
      });
      process.stdout.write(`ack ${tx} ${parts}\n`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
