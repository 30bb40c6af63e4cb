/**
 * Snapshots: the full content of every collection, written to a temporary file, fsynced, then renamed over
 * the previous snapshot and the directory fsynced, so a crash leaves either the old or the new snapshot.
 * Layout: a header frame { snapshot: 1, journalGeneration } naming the first journal to replay on top,
 * then frames of up to SNAPSHOT_CHUNK documents { c: collection, d: [documents] }.
 */
import { rename } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { StorageUnavailable, type Doc } from '../port';
import { SNAPSHOT_FILE, SNAPSHOT_TEMP_FILE, fsyncDirectory, pathIn } from './data-files';
import { encodeFrame, scanFrames } from './framing';

const SNAPSHOT_CHUNK = 1_000;

export interface SnapshotContent {
  journalGeneration: number;
  collections: Array<[name: string, docs: Doc[]]>;
}

/** Writes and installs a snapshot; resolves with its size in bytes once it is durable. */
export async function writeSnapshot(dir: string, content: SnapshotContent): Promise<number> {
  const tempPath = pathIn(dir, SNAPSHOT_TEMP_FILE);
  const handle = await open(tempPath, 'w');
  let bytes = 0;
  try {
    const writeFrame = async (payload: string): Promise<void> => {
      const frame = encodeFrame(payload);
      let written = 0;
      while (written < frame.length) {
        const { bytesWritten } = await handle.write(frame, written, frame.length - written, bytes + written);
        written += bytesWritten;
      }
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
  await rename(tempPath, pathIn(dir, SNAPSHOT_FILE));
  await fsyncDirectory(dir);
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
  if (scan.validBytes !== scan.totalBytes || journalGeneration < 1) {
    throw new StorageUnavailable(`snapshot ${path} is damaged at byte ${scan.validBytes} of ${scan.totalBytes}; restore the data directory from a backup`);
  }
  return { journalGeneration, bytes: scan.totalBytes };
}
