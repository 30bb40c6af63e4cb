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

  it('keeps repeated ids side by side, so that dropping neighbours that are equal leaves each id once', () => {
    const rand = seededRandom(9);
    for (const size of [50, 300, 3000]) {
      const distinct = Array.from({ length: size }, (_, i) => `Patient/p${String(i).padStart(6, '0')}`);
      const ids = Array.from({ length: size * 3 }, () => distinct[Math.floor(rand() * size)]);
      const out = [...inOrder(ids)];
      for (let i = 1; i < out.length; i++) assert.ok(out[i - 1] <= out[i], `ordered at ${i}`);
      assert.deepEqual(out.filter((id, i) => id !== out[i - 1]), [...new Set(ids)].sort(), `size ${size}`);
    }
  });
});
