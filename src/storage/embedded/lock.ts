/**
 * Exclusive ownership of a data directory: a LOCK file holding the owner's process id. A lock left by a
 * process that no longer runs (after a crash) is taken over; one held by a live process, including this one,
 * refuses the open.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { StorageUnavailable } from '../port';
import { LOCK_FILE, pathIn } from './data-files';

export function acquireLock(dir: string): () => void {
  const path = pathIn(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      fsyncSync(fd);
      closeSync(fd);
      return () => unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readOwner(path), 10);
      if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
        throw new StorageUnavailable(`data directory ${dir} is in use by process ${owner}${owner === process.pid ? ' (this process)' : ''}`);
      }
      unlinkSync(path);
    }
  }
  throw new StorageUnavailable(`could not lock data directory ${dir}: another process keeps taking the lock`);
}

function readOwner(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
