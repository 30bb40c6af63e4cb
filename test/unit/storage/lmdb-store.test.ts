/**
 * What only the LMDB engine can show (the storage contract runs on it in test/contract/embedded.test.ts):
 * everything survives a reopen, indexes included; a damaged value is detected, reported and never served;
 * concurrent transactions share LMDB commits; a failed commit (a full disk) is StorageFull, fails what
 * built on it, and writes recover without reopening.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PrefixTable, collectionEntry, decodeDocument } from '../../../src/storage/embedded/lmdb-layout';
import { checkDataDir } from '../../../src/storage/embedded/lmdb-maintenance';
import { openEnvironment, openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import { StorageConflict, StorageCorrupt, StorageFull, type Store, type StoreTransaction, type StoreWarning } from '../../../src/storage/port';

const scratch = mkdtempSync(join(tmpdir(), 'lmdb-store-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `store-${dirs++}`);

const ids = async (store: Store, filter = {}): Promise<string[]> => (await store.find('docs', filter, { sort: [['_id', 1]] })).map((d) => d._id);
const insert = (store: Store, id: string, extra: Record<string, unknown> = {}): Promise<unknown> => store.transaction((tx) => tx.insert('docs', { _id: id, ...extra }));
const enospc = (): Error => Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });

/** Overwrites the stored value of one document with other bytes, as a damaged disk block would. */
async function damage(dataDir: string, collection: string, id: string, mutate: (value: Buffer) => Buffer): Promise<void> {
  const { env, docs, meta } = openEnvironment(dataDir);
  const key = PrefixTable.load(meta).get(collectionEntry(collection)) + id;
  const value = Buffer.from(docs.getBinary(key)!);
  await env.transaction(() => docs.putSync(key, mutate(value)));
  await env.close();
}

describe('embedded store on LMDB', () => {
  it('gives back every committed document and index after reopening', async () => {
    const dataDir = freshDir();
    const first = await openLmdbStore({ dataDir });
    await first.ensureIndexes('docs', [{ name: 'v', keys: [['v', 1]] }]);
    await first.transaction(async (tx) => {
      await tx.insert('docs', { _id: 'a', v: 1 });
      await tx.insert('docs', { _id: 'b', v: 2 });
      await tx.insert('other', { _id: 'x', text: 'ünïcødé \u0000 ok' });
    });
    await first.transaction(async (tx) => {
      await tx.replace('docs', { _id: 'a', v: 3 });
      await tx.delete('docs', 'b');
    });
    await first.close();
    const second = await openLmdbStore({ dataDir });
    assert.deepEqual(await second.find('docs', { v: { $gte: 2 } }), [{ _id: 'a', v: 3 }]);
    assert.deepEqual(await second.find('docs', { v: 2 }), []);
    assert.deepEqual(await second.find('other', {}), [{ _id: 'x', text: 'ünïcødé \u0000 ok' }]);
    await second.close();
  });

  it('drops an index with its entries and definition, for good: it is not maintained or used after a reopen', async () => {
    const dataDir = freshDir();
    const warnings: StoreWarning[] = [];
    const first = await openLmdbStore({ dataDir, onWarning: (w) => warnings.push(w) });
    await first.ensureIndexes('docs', [{ name: 'v', keys: [['v', 1]] }, { name: 'w', keys: [['w', 1]], unique: true }]);
    for (let i = 0; i < 5; i++) await insert(first, `d${i}`, { v: i % 2, w: i });
    await first.dropIndexes('docs', ['w']);
    assert.match(warnings.map((w) => w.msg).join('\n'), /dropped 1 indexes of collection docs \(w; 5 entries\)/);
    await first.close();
    const { env, index, meta } = openEnvironment(dataDir, { readOnly: true });
    const stored = JSON.parse(decodeDocument(meta.getBinary('indexes/docs')!, 'meta', 'indexes/docs')) as Array<{ spec: { name: string } }>;
    const entries = (index.getStats() as { entryCount: number }).entryCount;
    await env.close();
    assert.deepEqual(stored.map((s) => s.spec.name), ['v']);
    assert.equal(entries, 5, 'only the entries of index v are left');
    const second = await openLmdbStore({ dataDir });
    await insert(second, 'again', { v: 1, w: 0 });
    assert.deepEqual(await ids(second, { w: 0 }), ['again', 'd0']);
    assert.deepEqual(await ids(second, { v: 1 }), ['again', 'd1', 'd3']);
    await second.dropIndexes('docs', ['v']);
    await second.close();
    const third = await openLmdbStore({ dataDir });
    assert.deepEqual(await ids(third, { v: 1 }), ['again', 'd1', 'd3']);
    await third.close();
    const after = openEnvironment(dataDir, { readOnly: true });
    assert.equal(after.meta.getBinary('indexes/docs'), undefined);
    assert.equal((after.index.getStats() as { entryCount: number }).entryCount, 0);
    await after.env.close();
  });

  it('keeps what key generation learnt about an index (an array met later) across a reopen', async () => {
    const dataDir = freshDir();
    const store = await openLmdbStore({ dataDir });
    await store.ensureIndexes('docs', [{ name: 'tags', keys: [['tags', 1]] }]);
    for (let i = 0; i < 3; i++) await insert(store, `s${i}`, { tags: 'a' });
    await insert(store, 'arr', { tags: ['a', 'b'] });
    await insert(store, 'later', { tags: 'b' });
    await store.close();
    const { env, meta } = openEnvironment(dataDir, { readOnly: true });
    const stored = JSON.parse(decodeDocument(meta.getBinary('indexes/docs')!, 'meta', 'indexes/docs')) as Array<{ shapes: Array<{ multikey: boolean }> }>;
    await env.close();
    assert.equal(stored[0].shapes[0].multikey, true);
    const reopened = await openLmdbStore({ dataDir });
    assert.deepEqual(await ids(reopened, { tags: 'b' }), ['arr', 'later']);
    await reopened.close();
  });

  it('refuses to serve a document whose checksum does not match, naming collection and id, and serves the rest', async () => {
    const dataDir = freshDir();
    const store = await openLmdbStore({ dataDir });
    await insert(store, 'good', { n: 1 });
    await insert(store, 'bad', { n: 2, text: 'original' });
    await store.close();
    await damage(dataDir, 'docs', 'bad', (value) => Buffer.from(value.toString('latin1').replace('original', 'tampered'), 'latin1'));
    const reopened = await openLmdbStore({ dataDir });
    try {
      const corrupt = (error: unknown): boolean => error instanceof StorageCorrupt && /document bad of collection docs is damaged/.test(error.message);
      await assert.rejects(reopened.findOne('docs', { _id: 'bad' }), corrupt);
      await assert.rejects(reopened.find('docs', { n: { $gt: 0 } }), corrupt);
      await assert.rejects(reopened.transaction((tx) => tx.replace('docs', { _id: 'bad', n: 3 })), corrupt);
      assert.deepEqual(await reopened.findOne('docs', { _id: 'good' }), { _id: 'good', n: 1 });
    } finally {
      await reopened.close();
    }
  });

  it('detects a value cut short (shorter than its checksum)', async () => {
    const dataDir = freshDir();
    const store = await openLmdbStore({ dataDir });
    await insert(store, 'short');
    await store.close();
    await damage(dataDir, 'docs', 'short', (value) => value.subarray(0, 2));
    const reopened = await openLmdbStore({ dataDir });
    await assert.rejects(reopened.findOne('docs', { _id: 'short' }), StorageCorrupt);
    await reopened.close();
  });

  it('commits transactions that queue up together, several per LMDB commit, each acknowledged once durable', async () => {
    let commits = 0;
    const store = await openLmdbStore({ dataDir: freshDir(), beforeCommit: () => void commits++ });
    await Promise.all(Array.from({ length: 40 }, (_, i) => insert(store, `d${String(i).padStart(2, '0')}`)));
    assert.equal((await ids(store)).length, 40);
    assert.ok(commits < 40, `${commits} LMDB commits for 40 transactions`);
    await store.close();
  });

  it('holds exactly the index entries of the final documents after queued commits create, replace, delete and recreate the same ids', async () => {
    const dataDir = freshDir();
    let commits = 0;
    const store = await openLmdbStore({ dataDir, beforeCommit: () => void commits++ });
    await store.ensureIndexes('docs', [
      { name: 'type_tags', keys: [['type', 1], ['tags', 1]] },
      { name: 'v', keys: [['v', 1]] },
    ]);
    await insert(store, 'T/kept', { type: 'T', tags: ['a', 'b'], v: 1 });
    // Queued together: several of them share one LMDB commit, each rewriting what an earlier one of the batch wrote.
    const steps: Array<(tx: StoreTransaction) => Promise<unknown>> = [
      (tx) => tx.replace('docs', { _id: 'T/kept', type: 'T', tags: ['b', 'c'], v: 1 }),
      (tx) => tx.insert('docs', { _id: 'T/gone', type: 'T', tags: ['a'], v: 2 }),
      (tx) => tx.delete('docs', 'T/gone'),
      (tx) => tx.insert('docs', { _id: 'T/again', type: 'T', tags: ['x'], v: 3 }),
      (tx) => tx.delete('docs', 'T/again'),
      (tx) => tx.insert('docs', { _id: 'T/again', type: 'T', tags: ['x', 'y'], v: 3 }),
      (tx) => tx.replace('docs', { _id: 'T/kept', type: 'T', tags: ['c', 'b'], v: 4 }),
      (tx) => tx.replace('docs', { _id: 'T/kept', type: 'T', tags: ['c', 'b'], v: 4 }),
    ];
    commits = 0;
    await Promise.all(steps.map((step) => store.transaction(step)));
    assert.ok(commits < steps.length, `${commits} LMDB commits for ${steps.length} transactions`);
    assert.deepEqual(await ids(store, { type: 'T', tags: 'a' }), []);
    assert.deepEqual(await ids(store, { type: 'T', tags: 'b' }), ['T/kept']);
    assert.deepEqual(await ids(store, { type: 'T', tags: { $in: ['x', 'y'] } }), ['T/again']);
    assert.deepEqual(await ids(store, { v: { $in: [1, 2] } }), []);
    assert.deepEqual(await ids(store, { v: { $gte: 3 } }), ['T/again', 'T/kept']);
    await store.close();
    // Every entry the stored documents make is there, and no other (store:check).
    const report = await checkDataDir(dataDir);
    assert.deepEqual(report.problems, []);
    assert.equal(report.indexEntries, 2 + 2 + 1 + 1);
  });

  it('hands back from insert and replace the frozen copy it commits, which later changes to the caller\'s document do not reach', async () => {
    const store = await openLmdbStore({ dataDir: freshDir() });
    const doc = { _id: 'a', v: 1, tags: ['x'] };
    const inserted = (await store.transaction((tx) => tx.insert('docs', doc))) as typeof doc;
    assert.notEqual(inserted, doc);
    assert.ok(Object.isFrozen(inserted) && Object.isFrozen(inserted.tags));
    doc.tags.push('changed');
    assert.deepEqual(inserted, { _id: 'a', v: 1, tags: ['x'] });
    const replaced = await store.transaction((tx) => tx.replace('docs', { _id: 'a', v: 2, tags: [] }, { v: 1 }));
    assert.deepEqual(replaced, { _id: 'a', v: 2, tags: [] });
    assert.deepEqual(await store.find('docs', { _id: 'a' }), [replaced]);
    await store.close();
  });

  it('fails a commit on a full disk with StorageFull, keeps reading, and writes again once space is freed', async () => {
    const dataDir = freshDir();
    let full = false;
    const warnings: StoreWarning[] = [];
    const store = await openLmdbStore({ dataDir, beforeCommit: () => {
      if (full) throw enospc();
    }, onWarning: (w) => warnings.push(w) });
    await insert(store, 'a');
    full = true;
    await assert.rejects(insert(store, 'b'), StorageFull);
    await assert.rejects(store.transaction((tx) => tx.replace('docs', { _id: 'a', changed: true })), StorageFull);
    assert.deepEqual(await store.find('docs', {}), [{ _id: 'a' }]);
    full = false;
    await insert(store, 'c');
    assert.deepEqual(await ids(store), ['a', 'c']);
    assert.deepEqual(
      warnings.map((w) => w.msg),
      ['the disk is full: writes are refused until space is freed in the data directory (reads go on)', 'writes are stored again: disk space was freed'],
    );
    await store.close();
    const reopened = await openLmdbStore({ dataDir });
    assert.deepEqual(await ids(reopened), ['a', 'c']);
    await reopened.close();
  });

  it('fails the transactions that read a write the full disk rejected, so none builds on a lost write', async () => {
    let full = false;
    const store = await openLmdbStore({ dataDir: freshDir(), beforeCommit: () => {
      if (full) throw enospc();
    } });
    await store.transaction((tx) => tx.insert('docs', { _id: 'counter', n: 0 }));
    full = true;
    const increment = (): Promise<void> =>
      store.transaction(async (tx) => {
        const current = (await tx.findOne('docs', { _id: 'counter' })) as { n: number } | null;
        await tx.replace('docs', { _id: 'counter', n: (current?.n ?? 0) + 1 });
      });
    const results = await Promise.allSettled([increment(), increment(), increment()]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    full = false;
    await increment();
    assert.deepEqual(await store.findOne('docs', { _id: 'counter' }), { _id: 'counter', n: 1 });
    await store.close();
  });

  it('keeps the parsed-document cache within its bound and never serves a stale cached version', async () => {
    const store = await openLmdbStore({ dataDir: freshDir(), cacheMb: 0.001 });
    const text = 'x'.repeat(100);
    for (let i = 0; i < 20; i++) await insert(store, `d${i}`, { text, v: 1 });
    for (let i = 0; i < 20; i++) assert.equal(((await store.findOne('docs', { _id: `d${i}` })) as { v?: number } | null)?.v, 1);
    await store.transaction((tx) => tx.replace('docs', { _id: 'd19', text, v: 2 }));
    assert.equal(((await store.findOne('docs', { _id: 'd19' })) as { v?: number } | null)?.v, 2);
    await store.close();
  });

  it('serves bulk reads (readOnce, as export does) without filling the parsed-document cache', async () => {
    const store = await openLmdbStore({ dataDir: freshDir() });
    await insert(store, 'a', { v: 1 });
    await insert(store, 'b', { v: 2 });
    const once = async (id: string) => (await store.find('docs', { _id: id }, { readOnce: true }))[0];
    // a read-once document is parsed afresh each time: nothing of it was kept
    assert.deepEqual(await once('a'), { _id: 'a', v: 1 });
    assert.notEqual(await once('a'), await once('a'));
    // a normal read fills the cache, and a read-once read then takes the cached copy
    const cached = await store.findOne('docs', { _id: 'b' });
    assert.equal(await store.findOne('docs', { _id: 'b' }), cached);
    assert.equal(await once('b'), cached);
    await store.close();
  });

  it('stores a document whose value would not fit an index key, answering its queries from elsewhere', async () => {
    const store = await openLmdbStore({ dataDir: freshDir() });
    await store.ensureIndexes('docs', [{ name: 's', keys: [['s', 1]] }]);
    await insert(store, 'long', { s: 'é'.repeat(1500) });
    await insert(store, 'short', { s: 'abc' });
    assert.deepEqual(await ids(store, { s: 'abc' }), ['short']);
    assert.deepEqual(await ids(store, { s: { $gt: 'b' } }), ['long']);
    await store.close();
  });

  it('builds no part of a unique index that finds a duplicate, and rejects it with StorageConflict', async () => {
    const store = await openLmdbStore({ dataDir: freshDir() });
    await insert(store, 'a', { u: 1 });
    await insert(store, 'b', { u: 1 });
    await assert.rejects(store.ensureIndexes('docs', [{ name: 'u', keys: [['u', 1]], unique: true }]), StorageConflict);
    await insert(store, 'c', { u: 1 });
    assert.deepEqual(await ids(store, { u: 1 }), ['a', 'b', 'c']);
    await store.close();
  });
});
