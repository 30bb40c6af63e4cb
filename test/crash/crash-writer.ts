/**
 * Child process for the crash test: opens an embedded store and commits transactions of 1-3 documents as fast
 * as it can (several at a time, so group commit and compaction run), printing "ack <tx> <parts>" only after
 * transaction() resolved. The parent kills it with SIGKILL at a random moment.
 * With `stall-snapshots`, a background compaction's snapshot write never finishes and "compacting" is printed
 * when one starts, so the parent can kill the writer before any compaction completes.
 * With `lmdb` instead of a compaction threshold, the writer runs on the LMDB engine.
 * Usage: node --import tsx crash-writer.ts <dataDir> <firstTx> <compactAfterBytes|lmdb> [stall-snapshots]
 */
import { nodeFileSystem, type StoreFileSystem } from '../../src/storage/embedded/data-files';
import { openEmbeddedStore } from '../../src/storage/embedded/embedded-store';
import { openLmdbStore } from '../../src/storage/embedded/lmdb-store';

/** After `armed`, opening snapshot.tmp announces itself and hands out a file whose writes never complete. */
function stallingSnapshots(): StoreFileSystem & { armed: boolean } {
  return {
    armed: false,
    async open(path, flags) {
      const file = await nodeFileSystem.open(path, flags);
      if (!this.armed || !path.endsWith('snapshot.tmp')) return file;
      process.stdout.write('compacting\n');
      return { ...file, write: () => new Promise<never>(() => undefined), close: () => file.close() };
    },
    rename: nodeFileSystem.rename,
    unlink: nodeFileSystem.unlink,
  };
}

async function main(): Promise<void> {
  const [dataDir, firstTxArg, compactArg, mode] = process.argv.slice(2);
  const files = stallingSnapshots();
  const store = compactArg === 'lmdb' ? await openLmdbStore({ dataDir }) : await openEmbeddedStore({ dataDir, compactAfterBytes: Number(compactArg), files });
  files.armed = mode === 'stall-snapshots';
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
