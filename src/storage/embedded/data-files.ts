/**
 * File names in an embedded store's data directory, the file operations its writes go through (injectable, so
 * tests can make the disk full), and the fsync helpers that make renames durable.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageFull } from '../port';

export const SNAPSHOT_FILE = 'snapshot.db';
export const SNAPSHOT_TEMP_FILE = 'snapshot.tmp';
export const LOCK_FILE = 'LOCK';

const JOURNAL_PATTERN = /^journal-(\d{6,})\.log$/;

export const journalFile = (generation: number): string => `journal-${String(generation).padStart(6, '0')}.log`;

/** Journal generations present in a directory listing, ascending. */
export function journalGenerations(names: string[]): number[] {
  return names
    .map((name) => JOURNAL_PATTERN.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** An open file as the store writes it (a subset of node's FileHandle). */
export interface StoreFile {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** The file operations of journal appends, snapshots and compaction. Reading at open uses node:fs directly. */
export interface StoreFileSystem {
  open(path: string, flags: 'r' | 'r+' | 'w' | 'w+'): Promise<StoreFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeFileSystem: StoreFileSystem = { open: (path, flags) => open(path, flags), rename, unlink };

const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** A full disk, quota or file size limit: the write can succeed later, once space is freed. */
export const isNoSpace = (error: unknown): boolean => NO_SPACE_CODES.has((error as NodeJS.ErrnoException | null)?.code ?? '');

/** A failed write as the store reports it: StorageFull for lack of space, the error itself otherwise. */
export function writeFailure(error: unknown, what: string): Error {
  if (isNoSpace(error)) {
    return new StorageFull(`${what} failed, the disk is full (${(error as NodeJS.ErrnoException).code}); free space in the data directory`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export async function writeFully(file: StoreFile, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await file.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

/** Removes a file if it exists; for cleaning up after a failed write, so it never throws. */
export async function removeQuietly(files: StoreFileSystem, path: string): Promise<void> {
  try {
    await files.unlink(path);
  } catch {
    // already gone, or the directory is unreadable: nothing more to clean up
  }
}

/** Makes a directory's entries (created, renamed or removed files) durable. */
export async function fsyncDirectory(dir: string, files: StoreFileSystem = nodeFileSystem): Promise<void> {
  const handle = await files.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function fsyncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const pathIn = (dir: string, name: string): string => join(dir, name);
