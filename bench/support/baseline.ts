/**
 * A checkout of an earlier commit, to measure against in the same run (for example the journal/snapshot
 * engine, which the tree no longer holds). The commit's files are exported with `git archive` into a folder
 * in the temporary directory (kept, and reused by later runs), with this tree's node_modules linked in and
 * its generated definitions copied (npm run build:defs output, which does not depend on the commit).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './processes';

export function checkoutBaseline(ref: string): string {
  const commit = execFileSync('git', ['rev-parse', `${ref}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `fhir-baseline-${commit.slice(0, 12)}`);
  if (existsSync(join(dir, 'package.json'))) {
    // The link made by an earlier run may point into a worktree since removed.
    if (!existsSync(join(dir, 'node_modules'))) {
      rmSync(join(dir, 'node_modules'), { force: true });
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    }
    return dir;
  }
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', commit], { cwd: ROOT, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', partial], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(partial, 'node_modules'));
  cpSync(join(ROOT, 'generated'), join(partial, 'generated'), { recursive: true });
  renameSync(partial, dir);
  return dir;
}
