/**
 * Shared plumbing of the definition builders: an artifact is rebuilt only when the stamp of its inputs changed,
 * and every file is replaced atomically so a crash mid-build never leaves a half-written artifact.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

/** Hash of the identity (path, size, mtime) of every input, plus a format salt. */
export function stampOf(files: string[], salt = ''): string {
  const hash = createHash('sha256').update(salt);
  for (const file of files) {
    const stat = statSync(file);
    hash.update(`${file}:${stat.size}:${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** True when every output exists and the stamp file holds this stamp. */
export function isCurrent(stampFile: string, stamp: string, outputs: string[]): boolean {
  return existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && outputs.every((f) => existsSync(f));
}

export function writeAtomically(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}
