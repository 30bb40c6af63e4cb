/** What the embedded store keeps of a staged document (src/storage/embedded/json-copy.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frozenInPlace, frozenJsonCopy } from '../../../src/storage/embedded/json-copy';
import { openEmbeddedStore } from '../../../src/storage/embedded/embedded-store';

const isDeepFrozen = (value: unknown): boolean =>
  value === null || typeof value !== 'object' || (Object.isFrozen(value) && Object.values(value).every(isDeepFrozen));

describe('staged documents', () => {
  it('freezes a handed-over plain JSON document where it is, and copies one JSON would change', () => {
    const plain = { _id: 'a', n: 1, list: [{ s: 'x' }, 2, true, null], nested: { deep: { v: 'y' } } };
    const kept = frozenInPlace(plain, JSON.stringify(plain));
    assert.equal(kept, plain);
    assert.ok(isDeepFrozen(plain));

    for (const odd of [{ _id: 'b', gone: undefined }, { _id: 'c', z: -0 }, { _id: 'd', when: new Date(0) }, { _id: 'e', list: [1, undefined] }, { _id: 'f', toJSON: () => 'f' }]) {
      const json = JSON.stringify(odd);
      const copy = frozenInPlace(odd, json);
      assert.notEqual(copy, odd, json);
      assert.deepEqual(copy, JSON.parse(json));
      assert.ok(isDeepFrozen(copy));
    }
  });

  it('keeps callers that change what they wrote from changing the store, unless they handed it over', async () => {
    const store = await openEmbeddedStore();
    try {
      const mine = { _id: 'kept', tags: ['a'] };
      const given = { _id: 'given', tags: ['a'] };
      await store.transaction(async (tx) => {
        await tx.insert('r', mine);
        await tx.insert('r', given, { handOver: true });
      });
      mine.tags.push('b');
      assert.deepEqual(await store.findOne('r', { _id: 'kept' }), { _id: 'kept', tags: ['a'] });
      assert.throws(() => (given.tags as string[]).push('b'), TypeError);
      assert.deepEqual(await store.findOne('r', { _id: 'given' }), { _id: 'given', tags: ['a'] });
      assert.deepEqual(frozenJsonCopy(mine, JSON.stringify(mine)), { _id: 'kept', tags: ['a', 'b'] });
    } finally {
      await store.close();
    }
  });
});
