/**
 * A full disk under the embedded store (through the injectable file layer, so it runs anywhere): a write
 * that cannot be stored fails with StorageFull and leaves nothing behind, reads go on, writes work again
 * once space is freed (no reopen), and a reopened store holds exactly the acknowledged writes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openEmbeddedStore } from '../../../src/storage/embedded/embedded-store';
import { StorageFull, StorageUnavailable, type Store, type StoreWarning } from '../../../src/storage/port';
import { FullDisk } from '../../fixtures/full-disk';

const scratch = mkdtempSync(join(tmpdir(), 'embedded-disk-full-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `store-${dirs++}`);

const ids = async (store: Store): Promise<string[]> => (await store.find('docs', {}, { sort: [['_id', 1]] })).map((d) => d._id);
const insert = (store: Store, id: string): Promise<void> => store.transaction((tx) => tx.insert('docs', { _id: id, text: 'z'.repeat(200) }));

/** Reopens on plain node:fs and returns the ids stored and the warnings recovery gave. */
async function reopen(dataDir: string): Promise<{ ids: string[]; warnings: StoreWarning[] }> {
  const warnings: StoreWarning[] = [];
  const store = await openEmbeddedStore({ dataDir, onWarning: (w) => warnings.push(w) });
  try {
    return { ids: await ids(store), warnings };
  } finally {
    await store.close();
  }
}

describe('embedded store on a full disk', () => {
  it('fails a journal write with StorageFull, keeps reading, and writes again once space is freed', async () => {
    const dataDir = freshDir();
    const disk = new FullDisk();
    const warnings: StoreWarning[] = [];
    const store = await openEmbeddedStore({ dataDir, files: disk, onWarning: (w) => warnings.push(w) });
    await insert(store, 'a');
    disk.fill(50); // a short write of a partial frame, then ENOSPC
    await assert.rejects(insert(store, 'b'), StorageFull);
    await assert.rejects(insert(store, 'c'), StorageFull);
    assert.ok(disk.failures >= 2);
    assert.deepEqual(await ids(store), ['a']);
    disk.free();
    await insert(store, 'd');
    await store.transaction((tx) => tx.replace('docs', { _id: 'a', text: 'changed' }));
    assert.deepEqual(await ids(store), ['a', 'd']);
    await store.close();
    assert.deepEqual(
      warnings.map((w) => w.msg),
      ['the disk is full: writes are refused until space is freed in the data directory (reads go on)', 'writes are stored again: disk space was freed'],
      'the operator hears once that the disk is full and once that it is no longer',
    );

    const reopened = await reopen(dataDir);
    assert.deepEqual(reopened.ids, ['a', 'd']);
    assert.deepEqual(reopened.warnings, [], 'the partial frame should have been cut off at once, not left for recovery');
  });

  it('fails the transactions that read a write the full disk rejected, so none builds on a lost write', async () => {
    const dataDir = freshDir();
    const disk = new FullDisk();
    const store = await openEmbeddedStore({ dataDir, files: disk });
    await insert(store, 'base');
    disk.fill();
    disk.failAfterMs = 20;
    let sawLost = false;
    const first = insert(store, 'lost');
    const second = store.transaction(async (tx) => {
      const seen = await tx.findOne('docs', { _id: 'lost' });
      sawLost = seen !== null;
      await first.catch(() => undefined); // commits only after the write it read has failed, on a freed disk
      disk.free();
      await tx.insert('docs', { _id: 'follower', sawLost: seen !== null });
    });
    const results = await Promise.allSettled([first, second]);
    assert.equal(results[0].status, 'rejected');
    assert.ok(sawLost, 'the second transaction should have read the first one in flight');
    assert.ok(results[1].status === 'rejected' && results[1].reason instanceof StorageFull);
    await insert(store, 'after');
    await store.close();
    const { ids: stored } = await reopen(dataDir);
    assert.deepEqual(stored, ['after', 'base']);
  });

  it('treats a quota (EDQUOT) like a full disk, and stops writing after an I/O error (EIO) until reopened', async () => {
    const dataDir = freshDir();
    const disk = new FullDisk();
    const store = await openEmbeddedStore({ dataDir, files: disk });
    await insert(store, 'a');
    disk.code = 'EDQUOT';
    disk.fill(10);
    await assert.rejects(insert(store, 'quota'), StorageFull);
    disk.free();
    await insert(store, 'b');
    disk.code = 'EIO';
    disk.fill(10);
    await assert.rejects(insert(store, 'io'), (e: unknown) => e instanceof StorageUnavailable && !(e instanceof StorageFull));
    disk.free();
    await assert.rejects(insert(store, 'c'), StorageUnavailable);
    assert.deepEqual(await ids(store), ['a', 'b']);
    await store.close();
    const reopened = await reopen(dataDir);
    assert.deepEqual(reopened.ids, ['a', 'b']);
    assert.equal(reopened.warnings.length, 1, 'the partial frame the I/O error left is cut off at the next open');
  });

  it('keeps writing its journal when the next journal file cannot be created for a compaction, and removes that file', async () => {
    const dataDir = freshDir();
    const disk = new FullDisk(/journal-000002\.log$/);
    disk.fill();
    const errors: Error[] = [];
    const store = await openEmbeddedStore({ dataDir, files: disk, compactAfterBytes: 1024, onBackgroundError: (e) => errors.push(e) });
    for (let i = 0; i < 30; i++) await insert(store, `d${String(i).padStart(2, '0')}`);
    assert.ok(errors.length > 0 && errors.every((e) => e instanceof StorageFull), errors.map((e) => e.message).join('; '));
    assert.ok(errors.length < 30, `compaction was retried after every commit (${errors.length} times)`);
    assert.deepEqual(readdirSync(dataDir).filter((n) => n.startsWith('journal-')), ['journal-000001.log']);
    disk.free();
    for (let i = 30; i < 60; i++) await insert(store, `d${i}`);
    await store.close();
    assert.ok(readdirSync(dataDir).includes('snapshot.db'));
    assert.equal((await reopen(dataDir)).ids.length, 60);
  });

  it('removes snapshot.tmp when a compaction runs out of space, and compacts once space is back', async () => {
    const dataDir = freshDir();
    const disk = new FullDisk(/snapshot\.tmp$/);
    const errors: Error[] = [];
    const store = await openEmbeddedStore({ dataDir, files: disk, compactAfterBytes: 2048, onBackgroundError: (e) => errors.push(e) });
    disk.fill(1000);
    for (let i = 0; i < 40; i++) await insert(store, `d${String(i).padStart(2, '0')}`);
    assert.ok(errors.length > 0, 'no compaction was attempted');
    assert.ok(errors.every((e) => e instanceof StorageFull), errors.map((e) => e.message).join('; '));
    assert.ok(!readdirSync(dataDir).includes('snapshot.tmp'), 'a failed compaction left snapshot.tmp behind');
    assert.ok(!readdirSync(dataDir).includes('snapshot.db'));
    disk.free();
    for (let i = 40; i < 80; i++) await insert(store, `d${i}`);
    await store.close();
    assert.ok(readdirSync(dataDir).includes('snapshot.db'), 'compaction did not resume once space was back');
    const { ids: stored } = await reopen(dataDir);
    assert.equal(stored.length, 80);
  });
});
