/**
 * The embedded engine's secondary index: range counts (read from the B+ tree's cached subtree sizes, which the
 * planner relies on) and callback visits agree with the entries a scan of the same intervals yields, after bulk
 * loading, inserts and deletes that reshape the tree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeKeyValue, prefixEnd } from '../../../src/storage/embedded/key-encoding';
import { SecondaryIndex, type KeyInterval } from '../../../src/storage/embedded/secondary-index';
import type { Doc } from '../../../src/storage/port';
import { seededRandom } from '../../fixtures/random';

const docOf = (n: number, rand: () => number): Doc => ({ _id: `d${n}`, v: [Math.floor(rand() * 500), Math.floor(rand() * 500)] });

function randomIntervals(rand: () => number): KeyInterval[] {
  const a = Math.floor(rand() * 520) - 10;
  const b = a + Math.floor(rand() * 200);
  const intervals: KeyInterval[] = [{ start: encodeKeyValue(a), end: rand() < 0.1 ? null : prefixEnd(encodeKeyValue(b)) }];
  if (rand() < 0.3) intervals.unshift({ start: encodeKeyValue(a - 40), end: encodeKeyValue(a - 20) });
  return intervals;
}

function assertCountsMatchScans(index: SecondaryIndex, rand: () => number): void {
  for (let i = 0; i < 200; i++) {
    const intervals = randomIntervals(rand);
    const scanned = [...index.scan(intervals)];
    assert.equal(index.countUpTo(intervals, Infinity), scanned.length, JSON.stringify(intervals));
    assert.equal(index.countUpTo(intervals, 7), Math.min(7, scanned.length));
    const visited: string[] = [];
    index.forEachId(intervals, false, (id) => visited.push(id));
    assert.deepEqual(visited, scanned);
  }
}

describe('embedded secondary index', () => {
  it('reads whole-tuple intervals in id order, merged across intervals', () => {
    const rand = seededRandom(11);
    const index = new SecondaryIndex({ name: 'v', keys: [['v', 1]] });
    const docs = Array.from({ length: 3000 }, (_, n) => ({ _id: `d${String(Math.floor(rand() * 1e6)).padStart(7, '0')}-${n}`, v: n % 7 }));
    index.load(docs);
    const tuples = [2, 5, 6].map((v) => ({ start: encodeKeyValue(v), end: prefixEnd(encodeKeyValue(v)) }));
    const expected = docs.filter((d) => [2, 5, 6].includes(d.v)).map((d) => d._id).sort();
    assert.deepEqual([...index.scanById(tuples)], expected);
    assert.deepEqual([...index.scanById(tuples, true)], expected.slice().reverse());
    const visited: string[] = [];
    index.forEachId(tuples, true, (id) => visited.push(id));
    assert.deepEqual(visited.sort(), expected);

    const keep = (id: string): boolean => id.charCodeAt(id.length - 1) % 3 === 0;
    const single = tuples[1]!;
    assert.deepEqual([...index.keptIds(single, keep)], [...index.scanById([single])].filter(keep));
    assert.ok([...index.keptIds(single, keep)].length > 64, 'spans several batches');
    assert.deepEqual([...index.keptIds(single, () => false)], []);
  });

  it('counts the entries of key intervals exactly, after bulk load, inserts and deletes', () => {
    const rand = seededRandom(7);
    const docs = Array.from({ length: 6000 }, (_, n) => docOf(n, rand));
    const index = new SecondaryIndex({ name: 'v', keys: [['v', 1]] });
    index.load(docs);
    assert.equal(index.size, 12000 - docs.filter((d) => (d.v as number[])[0] === (d.v as number[])[1]).length);
    assertCountsMatchScans(index, rand);

    for (let n = 6000; n < 9000; n++) index.add(docOf(n, rand));
    for (let n = 0; n < 4000; n += 1 + Math.floor(rand() * 3)) index.remove(docs[n]!);
    assertCountsMatchScans(index, rand);
  });
});
