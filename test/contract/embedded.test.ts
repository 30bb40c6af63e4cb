/** The storage contract on the embedded engine, in memory and on disk (LMDB), plus what only an on-disk store can show. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openEmbeddedStore } from '../../src/storage/embedded/embedded-store';
import { openLmdbStore } from '../../src/storage/embedded/lmdb-store';
import { StorageUnavailable } from '../../src/storage/port';
import { runStoreContract } from './store-contract';

const scratch = mkdtempSync(join(tmpdir(), 'embedded-contract-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `store-${dirs++}`);

runStoreContract('embedded, in memory', () => openEmbeddedStore());
runStoreContract('embedded on LMDB', () => openLmdbStore({ dataDir: freshDir() }));
runStoreContract('embedded on LMDB, cache of one document', () => openLmdbStore({ dataDir: freshDir(), cacheMb: 0.01 }));

describe('embedded store on disk', () => {
  it('gives back every committed document after reopening', async () => {
    const dataDir = freshDir();
    const first = await openLmdbStore({ dataDir });
    await first.transaction(async (tx) => {
      await tx.insert('r', { _id: 'a', v: 1 });
      await tx.insert('r', { _id: 'b', v: 2 });
    });
    await first.transaction(async (tx) => {
      await tx.replace('r', { _id: 'a', v: 3 });
      await tx.delete('r', 'b');
      await tx.insert('h', { _id: 'a/2', text: 'ünïcødé \u0000 ok' });
    });
    await first.close();
    const second = await openLmdbStore({ dataDir });
    assert.deepEqual(await second.find('r', {}), [{ _id: 'a', v: 3 }]);
    assert.deepEqual(await second.find('h', {}), [{ _id: 'a/2', text: 'ünïcødé \u0000 ok' }]);
    await second.close();
  });

  it('refuses to open a data directory that is already open', async () => {
    const dataDir = freshDir();
    const first = await openLmdbStore({ dataDir });
    await assert.rejects(openLmdbStore({ dataDir }), StorageUnavailable);
    await first.close();
    const again = await openLmdbStore({ dataDir });
    await again.close();
  });

  it('rejects use after close', async () => {
    const store = await openLmdbStore({ dataDir: freshDir() });
    await store.close();
    await assert.rejects(store.find('r', {}), StorageUnavailable);
    await assert.rejects(store.transaction(async () => undefined), StorageUnavailable);
  });

  it('rejects a transaction started inside the work of another on the same store (before its first await) instead of deadlocking', async () => {
    const store = await openEmbeddedStore();
    await assert.rejects(store.transaction(() => store.transaction(async () => 1)), /inside a transaction/);
    await store.close();
  });
});
