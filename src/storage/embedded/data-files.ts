/** File names in an embedded store's data directory and the fsync helpers that make renames durable. */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Makes a directory's entries (created, renamed or removed files) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
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
