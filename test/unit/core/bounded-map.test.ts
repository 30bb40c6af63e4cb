import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setBounded } from '../../../src/core/bounded-map';

describe('bounded caches (setBounded)', () => {
  it('never holds more than the bound, and drops the oldest entries first', () => {
    const map = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      setBounded(map, i, i * 2, 64);
      assert.ok(map.size <= 64, `size ${map.size} after ${i + 1} inserts`);
    }
    const kept = [...map.keys()];
    // What is left is the newest inserts, in order, ending with the last one.
    assert.deepEqual(kept, kept.map((_, j) => 1000 - kept.length + j));
    assert.equal(map.get(999), 1998);
    assert.ok(map.size >= 60, `an eviction removes a sixteenth of the bound, not the whole map (size ${map.size})`);
  });

  it('keeps a re-inserted key as the newest', () => {
    const map = new Map<string, number>();
    for (const k of ['a', 'b', 'c', 'd']) setBounded(map, k, 1, 4);
    map.delete('a');
    setBounded(map, 'a', 2, 4);
    setBounded(map, 'e', 1, 4);
    assert.equal(map.get('a'), 2);
    assert.ok(!map.has('b'), 'the oldest entry went first');
  });
});
