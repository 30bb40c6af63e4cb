/**
 * Opening a data directory: load the snapshot, replay the journals it names in generation order, cut a torn
 * or corrupt tail off the newest journal, and drop files a finished or interrupted compaction left behind.
 */
import { existsSync, ftruncateSync, fsyncSync, openSync, closeSync, readdirSync, unlinkSync } from 'node:fs';
import { StorageUnavailable, type Doc } from '../port';
import { SNAPSHOT_FILE, SNAPSHOT_TEMP_FILE, fsyncDirectorySync, journalFile, journalGenerations, pathIn } from './data-files';
import { scanFrames } from './framing';
import { readSnapshot } from './snapshot';

/** One journal frame after the header: a committed transaction's writes; a null document is a delete. */
export interface JournalRecord {
  w: Array<[collection: string, id: string, doc: Doc | null]>;
}

export interface RecoveredState {
  /** Newest intact journal generation, to continue appending to; null when a new journal must be created. */
  resumeGeneration: number | null;
  /** Intact bytes of that journal (any tail beyond has been cut off). */
  journalBytes: number;
  /** Generation for a journal created after this one (or instead of it). */
  nextGeneration: number;
  snapshotBytes: number;
}

export interface RecoveryTarget {
  put(collection: string, doc: Doc): void;
  delete(collection: string, id: string): void;
}

export function recover(dir: string, target: RecoveryTarget): RecoveredState {
  const tempSnapshot = pathIn(dir, SNAPSHOT_TEMP_FILE);
  if (existsSync(tempSnapshot)) unlinkSync(tempSnapshot);

  let firstGeneration = 1;
  let snapshotBytes = 0;
  const snapshotPath = pathIn(dir, SNAPSHOT_FILE);
  if (existsSync(snapshotPath)) {
    const snapshot = readSnapshot(snapshotPath, (collection, doc) => target.put(collection, doc));
    firstGeneration = snapshot.journalGeneration;
    snapshotBytes = snapshot.bytes;
  }

  const generations = journalGenerations(readdirSync(dir));
  for (const stale of generations.filter((g) => g < firstGeneration)) unlinkSync(pathIn(dir, journalFile(stale)));
  const live = generations.filter((g) => g >= firstGeneration);

  let journalBytes = 0;
  live.forEach((generation, i) => {
    const path = pathIn(dir, journalFile(generation));
    const newest = i === live.length - 1;
    const scan = scanFrames(path, (payload, index) => {
      if (index === 0) return;
      const record = JSON.parse(payload.toString('utf8')) as JournalRecord;
      for (const [collection, id, doc] of record.w) {
        if (doc) target.put(collection, doc);
        else target.delete(collection, id);
      }
    });
    if (scan.validBytes < scan.totalBytes) {
      if (!newest) {
        throw new StorageUnavailable(`journal ${path} is damaged at byte ${scan.validBytes} but newer journals follow it; restore the data directory from a backup`);
      }
      truncate(path, scan.validBytes);
    }
    journalBytes = scan.validBytes;
  });
  const newest = live.length > 0 ? live[live.length - 1] : null;
  if (newest !== null && journalBytes === 0) {
    unlinkSync(pathIn(dir, journalFile(newest)));
    fsyncDirectorySync(dir);
    return { resumeGeneration: null, journalBytes: 0, nextGeneration: newest, snapshotBytes };
  }
  return {
    resumeGeneration: newest,
    journalBytes,
    nextGeneration: newest === null ? firstGeneration : newest + 1,
    snapshotBytes,
  };
}

function truncate(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
