/**
 * Compiled profiles kept across restarts (under DATA_DIR/profile-cache): each entry is keyed by a SHA-256 of
 * everything it was built from, so a changed input is a new key and never a stale hit.
 * - `packages/<sha256 of the package.tgz>.json`: the conformance resources read from a package, so a restart does
 *   not untar it again;
 * - `profiles/<sha256 of the format, the R4 base snapshots' stamp, the profile and every local profile it builds on>.json`:
 *   the compiled rule tree of one profile (its snapshot generated and reduced to what it says beyond the base).
 * A missing, unreadable or corrupt entry is a miss; the cache is never needed for correctness.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Bump when the shape of a cached rule tree or package entry changes. */
export const PROFILE_CACHE_FORMAT = 'profile-cache/1';

export const sha256 = (...parts: Array<string | Buffer>): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

export class ProfileCache {
  hits = 0;
  misses = 0;

  constructor(readonly dir: string) {}

  get<T>(kind: 'packages' | 'profiles', key: string): T | undefined {
    try {
      const value = JSON.parse(fs.readFileSync(path.join(this.dir, kind, `${key}.json`), 'utf8')) as { format?: string; value: T };
      if (value.format !== PROFILE_CACHE_FORMAT) return this.miss();
      this.hits++;
      return value.value;
    } catch {
      return this.miss();
    }
  }

  set(kind: 'packages' | 'profiles', key: string, value: unknown): void {
    try {
      const folder = path.join(this.dir, kind);
      fs.mkdirSync(folder, { recursive: true });
      const file = path.join(folder, `${key}.json`);
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, JSON.stringify({ format: PROFILE_CACHE_FORMAT, value }));
      fs.renameSync(temporary, file);
    } catch {
      // A read-only or full disk only costs the next start-up a recompile.
    }
  }

  private miss(): undefined {
    this.misses++;
    return undefined;
  }
}
