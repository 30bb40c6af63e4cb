/**
 * Opening a data directory: load the snapshot, replay the journals it names in generation order, and drop
 * files a finished or interrupted compaction left behind.
 *
 * What a crash can leave is repaired, with a warning: a torn last frame of the newest journal (the one write
 * that was in flight; journal.ts writes each group commit as one frame, so nothing intact can follow it) is
 * cut off, as is a newest journal whose header was being written. Anything else is corruption and refuses
 * the open (StorageCorrupt, naming the file and byte offset): a damaged frame with an intact frame after it,
 * a damaged journal header with frames after it, damage in an older journal or the snapshot (fsynced before
 * anything newer was written), and a missing snapshot or journal (journal generations must run without gaps
 * from the one the snapshot names, or from 1 without a snapshot).
 */
import { existsSync, ftruncateSync, fsyncSync, openSync, closeSync, readdirSync, unlinkSync } from 'node:fs';
import { StorageCorrupt, type Doc, type StoreWarning } from '../port';
import { SNAPSHOT_FILE, SNAPSHOT_TEMP_FILE, fsyncDirectorySync, journalFile, journalGenerations, pathIn } from './data-files';
import { findIntactFrame, scanFrames } from './framing';
import { readSnapshot } from './snapshot';

/** One transaction's writes; a null document is a delete. */
export interface JournalRecord {
  w: Array<[collection: string, id: string, doc: Doc | null]>;
}

/** One journal frame after the header: a transaction, or several committed together (`t`). */
type JournalFrame = JournalRecord | { t: JournalRecord[] };

export interface RecoveredState {
  /** Newest intact journal generation, to continue appending to; null when a new journal must be created. */
  resumeGeneration: number | null;
  /** Intact bytes of that journal (any tail beyond has been cut off). */
  journalBytes: number;
  /** Bytes of all journals replayed (what a compaction would fold into the snapshot). */
  replayedBytes: number;
  /** Generation for a journal created after this one (or instead of it). */
  nextGeneration: number;
  snapshotBytes: number;
}

export interface RecoveryTarget {
  put(collection: string, doc: Doc): void;
  delete(collection: string, id: string): void;
}

const RESTORE = 'stop the server and restore the data directory (DATA_DIR) from a backup';

export function recover(dir: string, target: RecoveryTarget, onWarning: (warning: StoreWarning) => void): RecoveredState {
  const tempSnapshot = pathIn(dir, SNAPSHOT_TEMP_FILE);
  if (existsSync(tempSnapshot)) {
    unlinkSync(tempSnapshot);
    onWarning({ msg: 'removed a half-written snapshot left by an interrupted compaction', file: tempSnapshot });
  }

  let firstGeneration = 1;
  let snapshotBytes = 0;
  const snapshotPath = pathIn(dir, SNAPSHOT_FILE);
  const hasSnapshot = existsSync(snapshotPath);
  if (hasSnapshot) {
    const snapshot = readSnapshot(snapshotPath, (collection, doc) => target.put(collection, doc));
    firstGeneration = snapshot.journalGeneration;
    snapshotBytes = snapshot.bytes;
  }

  const generations = journalGenerations(readdirSync(dir));
  for (const stale of generations.filter((g) => g < firstGeneration)) unlinkSync(pathIn(dir, journalFile(stale)));
  const live = generations.filter((g) => g >= firstGeneration);
  assertNoneMissing(dir, live, firstGeneration, hasSnapshot);

  let journalBytes = 0;
  let replayedBytes = 0;
  live.forEach((generation, i) => {
    journalBytes = replayJournal(pathIn(dir, journalFile(generation)), generation, i === live.length - 1, target, onWarning);
    replayedBytes += journalBytes;
  });
  const newest = live.length > 0 ? live[live.length - 1] : null;
  if (newest !== null && journalBytes === 0) {
    unlinkSync(pathIn(dir, journalFile(newest)));
    fsyncDirectorySync(dir);
    return { resumeGeneration: null, journalBytes: 0, replayedBytes, nextGeneration: newest, snapshotBytes };
  }
  return {
    resumeGeneration: newest,
    journalBytes,
    replayedBytes,
    nextGeneration: newest === null ? firstGeneration : newest + 1,
    snapshotBytes,
  };
}

/** Journals are created one generation after another and only removed below an installed snapshot's. */
function assertNoneMissing(dir: string, live: number[], firstGeneration: number, hasSnapshot: boolean): void {
  if (live.length === 0) return;
  if (live[0] !== firstGeneration) {
    const found = pathIn(dir, journalFile(live[0]));
    throw new StorageCorrupt(
      hasSnapshot
        ? `journal ${pathIn(dir, journalFile(firstGeneration))} is missing: ${SNAPSHOT_FILE} continues in it, but the oldest journal is ${found}; ${RESTORE}`
        : `snapshot ${pathIn(dir, SNAPSHOT_FILE)} is missing: journal ${found} continues a snapshot (its generation is ${live[0]}, not 1); ${RESTORE}`,
    );
  }
  live.forEach((generation, i) => {
    if (generation !== firstGeneration + i) {
      throw new StorageCorrupt(`journal ${pathIn(dir, journalFile(firstGeneration + i))} is missing (journals up to generation ${generation} follow it); ${RESTORE}`);
    }
  });
}

/** Replays one journal; returns its intact length (0 if even its header is not intact). */
function replayJournal(path: string, generation: number, newest: boolean, target: RecoveryTarget, onWarning: (warning: StoreWarning) => void): number {
  let header: { journal?: unknown; generation?: unknown } | null = null;
  const scan = scanFrames(path, (payload, index) => {
    const frame = JSON.parse(payload.toString('utf8')) as JournalFrame;
    if (index === 0) {
      header = frame as typeof header;
      return;
    }
    for (const record of 't' in frame ? frame.t : [frame]) {
      for (const [collection, id, doc] of record.w) {
        if (doc) target.put(collection, doc);
        else target.delete(collection, id);
      }
    }
  });
  const named = header as { journal?: unknown; generation?: unknown } | null;
  if (named && (named.journal !== 1 || named.generation !== generation)) {
    throw new StorageCorrupt(`journal ${path} has a header for generation ${String(named.generation)}, not ${generation}; ${RESTORE}`);
  }
  if (scan.validBytes === scan.totalBytes) return scan.validBytes;

  const damagedAt = scan.validBytes;
  const where = damagedAt === 0 ? 'its header (byte 0)' : `byte ${damagedAt} of ${scan.totalBytes}`;
  if (!newest) {
    throw new StorageCorrupt(`journal ${path} is damaged at ${where}, but newer journals follow it (it was complete before they were written); ${RESTORE}`);
  }
  const intact = findIntactFrame(path, damagedAt);
  if (intact !== null) {
    throw new StorageCorrupt(
      `journal ${path} is damaged at ${where}, and an intact record follows at byte ${intact}, so this is not a write a crash interrupted; ${RESTORE}`,
    );
  }
  truncate(path, damagedAt);
  onWarning({
    msg: damagedAt === 0 ? 'removed a journal whose creation a crash interrupted' : 'cut off a torn last record of the journal (a write a crash interrupted; it was never acknowledged)',
    file: path,
    offset: damagedAt,
    bytes: scan.totalBytes - damagedAt,
  });
  return damagedAt;
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
