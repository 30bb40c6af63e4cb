/** Lazily ordered ids (src/storage/embedded/ordered-ids.ts): the same sequence as a full sort, in either direction. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inOrder } from '../../../src/storage/embedded/ordered-ids';
import { seededRandom } from '../../fixtures/random';

describe('embedded lazily ordered ids', () => {
  it('yields every id in sorted order, ascending and descending, for lists small and large', () => {
    const rand = seededRandom(5);
    for (const size of [0, 1, 2, 31, 64, 65, 100, 1000, 5000]) {
      const ids = [...new Set(Array.from({ length: size }, () => `Patient/p${Math.floor(rand() * 1e6)}`))];
      const sorted = [...ids].sort();
      assert.deepEqual([...inOrder(ids)], sorted, `ascending, ${size}`);
      assert.deepEqual([...inOrder(ids, true)], [...sorted].reverse(), `descending, ${size}`);
    }
  });

  it('yields the first ids in order when the caller stops after a page', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `id${String((i * 7919) % 2000).padStart(5, '0')}`);
    const first: string[] = [];
    for (const id of inOrder(ids)) {
      first.push(id);
      if (first.length === 10) break;
    }
    assert.deepEqual(first, [...ids].sort().slice(0, 10));
  });
});
