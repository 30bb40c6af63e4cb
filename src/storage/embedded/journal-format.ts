/**
 * Reading a data directory in the journal/snapshot format of versions before LMDB, for the one-time import
 * (lmdb-import.ts); nothing here writes that format any more, and nothing changes the files read.
 * Files: `snapshot.db` (optional) and `journal-NNNNNN.log`, each a sequence of frames
 * [payload length: u32 LE][CRC-32 of payload: u32 LE][payload: UTF-8 JSON object].
 * - snapshot: a header { snapshot: 1, journalGeneration }, then { c: collection, d: [documents] } frames;
 * - journal: a header { journal: 1, generation }, then one frame per group commit: a transaction
 *   { w: [[collection, id, document | null]] } or several { t: [transaction, ...] } (null = delete).
 * The old engine's crash rules hold: the journals from the snapshot's generation on are replayed in order; a
 * torn last frame of the newest journal was never acknowledged and is skipped (with a warning); any other
 * damage, or a missing journal, is StorageCorrupt. Journals below the snapshot's generation were already
 * folded into it and are ignored.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StorageCorrupt, type Doc, type StoreWarning } from '../port';

export const SNAPSHOT_FILE = 'snapshot.db';
/** A snapshot a crash interrupted before it was installed: ignored. */
export const SNAPSHOT_TEMP_FILE = 'snapshot.tmp';
const JOURNAL_PATTERN = /^journal-(\d{6,})\.log$/;
const FRAME_HEADER_BYTES = 8;
const RESTORE = 'restore the data directory (DATA_DIR) from a backup of the old version, or open it with that version';

export const journalFile = (generation: number): string => `journal-${String(generation).padStart(6, '0')}.log`;

/** Journal generations present in a directory listing, ascending. */
export function journalGenerations(names: string[]): number[] {
  return names
    .map((name) => JOURNAL_PATTERN.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Files of the old format in a data directory. */
export function journalFormatFiles(dir: string): string[] {
  const names = readdirSync(dir);
  const journals = new Set(journalGenerations(names).map(journalFile));
  return names.filter((n) => n === SNAPSHOT_FILE || n === SNAPSHOT_TEMP_FILE || journals.has(n));
}

export interface ReadTarget {
  put(collection: string, doc: Doc): void;
  delete(collection: string, id: string): void;
}

/** Replays the snapshot and journals of `dir` into `target`, in the order the old engine would have. */
export function readJournalFormat(dir: string, target: ReadTarget, warn: (warning: StoreWarning) => void): void {
  let firstGeneration = 1;
  const snapshot = join(dir, SNAPSHOT_FILE);
  const hasSnapshot = existsSync(snapshot);
  if (hasSnapshot) {
    let generation = 0;
    const scan = scanFrames(snapshot, (frame, index) => {
      if (index === 0) generation = frame.journalGeneration as number;
      else for (const doc of frame.d as Doc[]) target.put(frame.c as string, doc);
    });
    if (scan.validBytes !== scan.totalBytes || !Number.isInteger(generation) || generation < 1) {
      throw new StorageCorrupt(`snapshot ${snapshot} is damaged at byte ${scan.validBytes} of ${scan.totalBytes}; ${RESTORE}`);
    }
    firstGeneration = generation;
  }
  const live = journalGenerations(readdirSync(dir)).filter((g) => g >= firstGeneration);
  live.forEach((generation, i) => {
    if (generation !== firstGeneration + i) {
      const missing = i === 0 && !hasSnapshot ? `snapshot ${snapshot}` : `journal ${join(dir, journalFile(firstGeneration + i))}`;
      throw new StorageCorrupt(`${missing} is missing (journal generation ${generation} continues it); ${RESTORE}`);
    }
    replayJournal(join(dir, journalFile(generation)), generation, i === live.length - 1, target, warn);
  });
}

function replayJournal(path: string, generation: number, newest: boolean, target: ReadTarget, warn: (warning: StoreWarning) => void): void {
  const scan = scanFrames(path, (frame, index) => {
    if (index === 0) {
      if (frame.journal !== 1 || frame.generation !== generation) throw new StorageCorrupt(`journal ${path} has a header for generation ${String(frame.generation)}, not ${generation}; ${RESTORE}`);
      return;
    }
    for (const record of (frame.t ?? [frame]) as Array<{ w: Array<[string, string, Doc | null]> }>) {
      for (const [collection, id, doc] of record.w) {
        if (doc) target.put(collection, doc);
        else target.delete(collection, id);
      }
    }
  });
  if (scan.validBytes === scan.totalBytes) return;
  if (!newest || scan.intactAfter) {
    throw new StorageCorrupt(`journal ${path} is damaged at byte ${scan.validBytes} of ${scan.totalBytes}, which no crash of the old engine leaves; ${RESTORE}`);
  }
  warn({ msg: 'skipped a torn last record of the old journal (a write a crash interrupted; it was never acknowledged)', file: path, offset: scan.validBytes, bytes: scan.totalBytes - scan.validBytes });
}

interface FrameScan {
  /** Bytes up to the end of the last intact frame. */
  validBytes: number;
  totalBytes: number;
  /** Whether an intact frame starts somewhere after the damage (damage in the middle, not a torn tail). */
  intactAfter: boolean;
}

const READ_CHUNK_BYTES = 16 << 20;

/** Calls `onFrame` with each intact frame's parsed payload, in file order, up to the first damaged one. */
function scanFrames(path: string, onFrame: (frame: Record<string, unknown>, index: number) => void): FrameScan {
  const fd = openSync(path, 'r');
  try {
    const totalBytes = fstatSync(fd).size;
    let buffer: Buffer = Buffer.alloc(0);
    let bufferStart = 0;
    /** Makes bytes [position, position + length) readable in `buffer`; false past the end of the file. */
    const ensure = (position: number, length: number): boolean => {
      if (position + length > totalBytes) return false;
      if (position >= bufferStart && position + length <= bufferStart + buffer.length) return true;
      buffer = readAt(fd, position, Math.min(Math.max(length, READ_CHUNK_BYTES), totalBytes - position));
      bufferStart = position;
      return buffer.length >= length;
    };
    let position = 0;
    for (let index = 0; ensure(position, FRAME_HEADER_BYTES); index++) {
      const length = buffer.readUInt32LE(position - bufferStart);
      if (length === 0 || !ensure(position, FRAME_HEADER_BYTES + length)) break;
      const payload = frameAt(buffer, position - bufferStart);
      if (!payload) break;
      onFrame(JSON.parse(payload.toString('utf8')) as Record<string, unknown>, index);
      position += FRAME_HEADER_BYTES + length;
    }
    if (position === totalBytes) return { validBytes: position, totalBytes, intactAfter: false };
    // Damage: is any intact frame after it? Every payload is a JSON object, so candidates start 8 bytes before `{"`.
    const rest = readAt(fd, position, totalBytes - position);
    let intactAfter = false;
    for (let at = rest.indexOf('{"', FRAME_HEADER_BYTES + 1); at !== -1 && !intactAfter; at = rest.indexOf('{"', at + 1)) {
      intactAfter = frameAt(rest, at - FRAME_HEADER_BYTES) !== null;
    }
    return { validBytes: position, totalBytes, intactAfter };
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const n = readSync(fd, buffer, filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}

/** The payload of the intact frame at `position` of `bytes`, or null. */
function frameAt(bytes: Buffer, position: number): Buffer | null {
  if (position + FRAME_HEADER_BYTES > bytes.length) return null;
  const length = bytes.readUInt32LE(position);
  const end = position + FRAME_HEADER_BYTES + length;
  if (length === 0 || end > bytes.length) return null;
  const payload = bytes.subarray(position + FRAME_HEADER_BYTES, end);
  return crc32(payload) === bytes.readUInt32LE(position + 4) ? payload : null;
}
