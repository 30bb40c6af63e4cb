/**
 * Snapshots: the full content of every collection, written to a temporary file, fsynced, then renamed over
 * the previous snapshot and the directory fsynced, so a crash leaves either the old or the new snapshot. A
 * write that fails (a full disk) removes the temporary file, so a failed compaction uses up no space.
 * Layout: a header frame { snapshot: 1, journalGeneration } naming the first journal to replay on top,
 * then frames of up to SNAPSHOT_CHUNK documents { c: collection, d: [documents] }.
 */
import { StorageCorrupt, type Doc } from '../port';
import { SNAPSHOT_FILE, SNAPSHOT_TEMP_FILE, fsyncDirectory, nodeFileSystem, pathIn, removeQuietly, writeFailure, writeFully, type StoreFileSystem } from './data-files';
import { encodeFrame, scanFrames } from './framing';

const SNAPSHOT_CHUNK = 1_000;

export interface SnapshotContent {
  journalGeneration: number;
  collections: Array<[name: string, docs: Doc[]]>;
}

/** Writes and installs a snapshot; resolves with its size in bytes once it is durable. */
export async function writeSnapshot(dir: string, content: SnapshotContent, files: StoreFileSystem = nodeFileSystem): Promise<number> {
  const tempPath = pathIn(dir, SNAPSHOT_TEMP_FILE);
  let bytes = 0;
  try {
    const handle = await files.open(tempPath, 'w');
    try {
      const writeFrame = async (payload: string): Promise<void> => {
        const frame = encodeFrame(payload);
        await writeFully(handle, frame, bytes);
        bytes += frame.length;
      };
      await writeFrame(JSON.stringify({ snapshot: 1, journalGeneration: content.journalGeneration }));
      for (const [name, docs] of content.collections) {
        for (let i = 0; i < docs.length; i += SNAPSHOT_CHUNK) {
          await writeFrame(JSON.stringify({ c: name, d: docs.slice(i, i + SNAPSHOT_CHUNK) }));
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await files.rename(tempPath, pathIn(dir, SNAPSHOT_FILE));
  } catch (error) {
    await removeQuietly(files, tempPath);
    throw writeFailure(error, `writing snapshot ${tempPath}`);
  }
  await fsyncDirectory(dir, files);
  return bytes;
}

/** Reads a snapshot, handing each document to `onDoc`; returns the journal generation to replay from. */
export function readSnapshot(path: string, onDoc: (collection: string, doc: Doc) => void): { journalGeneration: number; bytes: number } {
  let journalGeneration = 0;
  const scan = scanFrames(path, (payload, index) => {
    const frame = JSON.parse(payload.toString('utf8'));
    if (index === 0) {
      journalGeneration = frame.journalGeneration;
      return;
    }
    for (const doc of frame.d as Doc[]) onDoc(frame.c, doc);
  });
  if (scan.validBytes !== scan.totalBytes || !Number.isInteger(journalGeneration) || journalGeneration < 1) {
    throw new StorageCorrupt(
      `snapshot ${path} is damaged at byte ${scan.validBytes} of ${scan.totalBytes} (a snapshot is complete before it is installed, so this is not a crash); restore the data directory from a backup`,
    );
  }
  return { journalGeneration, bytes: scan.totalBytes };
}
