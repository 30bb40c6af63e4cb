/** File names in an embedded store's data directory, and the fsync that makes renames in it durable. */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';

export function fsyncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const pathIn = (dir: string, name: string): string => join(dir, name);
