/**
 * `npm run store:check` and `npm run store:compact` on a stopped LMDB data directory: a clean directory checks
 * clean (exit 0); a damaged value, a missing and a stray index entry are each reported (exit 1; the damaged
 * document's own entries count as stray, as nothing readable makes them); compaction keeps
 * every document and index; both refuse a directory a running store holds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PrefixTable, collectionEntry, indexEntry } from '../../../src/storage/embedded/lmdb-layout';
import { checkDataDir, compactDataDir } from '../../../src/storage/embedded/lmdb-maintenance';
import { openEnvironment, openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import { StorageUnavailable } from '../../../src/storage/port';

const scratch = mkdtempSync(join(tmpdir(), 'lmdb-maintenance-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const ROOT = join(__dirname, '../../..');

async function populated(): Promise<string> {
  const dataDir = join(scratch, `store-${dirs++}`);
  const store = await openLmdbStore({ dataDir });
  await store.ensureIndexes('docs', [{ name: 'v', keys: [['v', 1]] }, { name: 'tags', keys: [['tags', 1]] }]);
  await store.transaction(async (tx) => {
    for (let i = 0; i < 50; i++) await tx.insert('docs', { _id: `d${i}`, v: i, tags: [`t${i % 3}`, 'all'] });
  });
  await store.transaction((tx) => tx.delete('docs', 'd7'));
  await store.close();
  return dataDir;
}

const runCheck = (dataDir: string) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/store-check.ts'), dataDir], { encoding: 'utf8', cwd: ROOT });

async function edit(dataDir: string, change: (dbs: ReturnType<typeof openEnvironment>) => void): Promise<void> {
  const dbs = openEnvironment(dataDir);
  await dbs.env.transaction(() => change(dbs));
  await dbs.env.close();
}

describe('store:check and store:compact', () => {
  it('checks a clean directory clean, with exit code 0', async () => {
    const dataDir = await populated();
    const report = await checkDataDir(dataDir);
    assert.deepEqual([report.documents, report.indexEntries, report.problemCount], [49, 49 + 49 * 2, 0]);
    const run = runCheck(dataDir);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /49 documents, 147 index entries, 0 problems/);
  });

  it('reports a damaged value, a missing and a stray index entry, with exit code 1', async () => {
    const dataDir = await populated();
    await edit(dataDir, ({ docs, index, meta }) => {
      const prefixes = PrefixTable.load(meta);
      const key = prefixes.get(collectionEntry('docs')) + 'd3';
      const value = Buffer.from(docs.getBinary(key)!);
      value[value.length - 2] ^= 0x01;
      docs.putSync(key, value);
      const [first] = index.getKeys({ start: prefixes.get(indexEntry('docs', 'v')), limit: 1 });
      index.removeSync(first as string);
      index.putSync(prefixes.get(indexEntry('docs', 'tags')) + '\u0003zz\u0000\u0001nobody', Buffer.alloc(0));
    });
    const report = await checkDataDir(dataDir);
    assert.equal(report.problemCount, 3, report.problems.join('\n'));
    assert.match(report.problems.join('\n'), /document d3 of collection docs is damaged/);
    assert.match(report.problems.join('\n'), /index v of collection docs lacks an entry for document d0/);
    assert.match(report.problems.join('\n'), /index tags of collection docs holds 3 entries that no readable document makes/);
    const run = runCheck(dataDir);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /damaged: .*d3/);
  });

  it('compacts into a copy that holds every document and index, and checks clean', async () => {
    const dataDir = await populated();
    const { before, after: size } = await compactDataDir(dataDir);
    assert.ok(size <= before, `${size} > ${before}`);
    assert.equal((await checkDataDir(dataDir)).problemCount, 0);
    const store = await openLmdbStore({ dataDir });
    assert.deepEqual((await store.find('docs', { tags: 't1', v: { $lt: 10 } }, { sort: [['_id', 1]] })).map((d) => d._id), ['d1', 'd4']);
    assert.equal(await store.count('docs', {}), 49);
    await store.close();
  });

  it('refuses a directory that a running store holds', async () => {
    const dataDir = await populated();
    const store = await openLmdbStore({ dataDir });
    try {
      await assert.rejects(checkDataDir(dataDir), StorageUnavailable);
      await assert.rejects(compactDataDir(dataDir), StorageUnavailable);
    } finally {
      await store.close();
    }
  });
});
