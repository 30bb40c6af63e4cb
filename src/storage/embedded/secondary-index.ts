/**
 * An ordered secondary index: a B+ tree of encoded compound keys (key-encoding.ts), each ending in the id of
 * its document (read back from the key, so the tree holds no values). Scans take half-open intervals of
 * encoded keys and cost O(log n + entries visited).
 */
import BTree from 'sorted-btree';
import { bulkLoad } from 'sorted-btree/extended/bulkLoad';
import type { Doc, IndexSpec } from '../port';
import { mergeById } from './ordered-ids';
import { KeyGenerator, type PositionShape } from './index-keys';
import { encodedTupleLength, prefixEnd } from './key-encoding';
import { assertUniqueIn, type IndexView, type KeyInterval } from './index-view';

export type { KeyInterval } from './index-view';

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class SecondaryIndex implements IndexView {
  readonly spec: IndexSpec;
  readonly paths: string[];
  private readonly generator: KeyGenerator;
  private tree = new BTree<string, undefined>(undefined, compareStrings);

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.paths = spec.keys.map(([path]) => path);
    this.generator = new KeyGenerator(this.paths, spec.sparseOn, spec.only);
  }

  get shapes(): readonly PositionShape[] {
    return this.generator.shapes;
  }

  get size(): number {
    return this.tree.size;
  }

  /** Key tuples of `doc` (without its id). */
  tuples(doc: Doc): string[] {
    return this.generator.keys(doc);
  }

  /**
   * Fills the index with `docs` in one go: every key is generated, the keys are sorted natively and the tree is
   * built bottom-up, instead of one tree insertion per key (start-up builds indexes over every stored document).
   */
  load(docs: Iterable<Doc>): void {
    if (this.tree.size > 0 || this.spec.unique) {
      for (const doc of docs) {
        const tuples = this.tuples(doc);
        this.assertUnique(doc, tuples, () => false);
        this.add(doc, tuples);
      }
      return;
    }
    const keys: string[] = [];
    for (const doc of docs) for (const key of this.generator.keys(doc, doc._id)) keys.push(key);
    keys.sort();
    this.tree = bulkLoad<string, undefined>(keys, new Array<undefined>(keys.length), this.tree.maxNodeSize, compareStrings);
  }

  add(doc: Doc, tuples: string[] = this.tuples(doc)): void {
    for (const tuple of tuples) this.tree.set(tuple + doc._id, undefined);
  }

  remove(doc: Doc, tuples: string[] = this.tuples(doc)): void {
    for (const tuple of tuples) this.tree.delete(tuple + doc._id);
  }

  /** Ids of other documents holding one of `tuples` (unique index check). */
  holders(tuples: string[], exceptId: string): string[] {
    const found: string[] = [];
    for (const tuple of tuples) {
      this.tree.forRange(tuple, prefixEnd(tuple), false, (key) => {
        const id = this.idOf(key);
        if (id !== exceptId) found.push(id);
      });
    }
    return found;
  }

  /** Throws StorageConflict when a unique index would hold a key twice. */
  assertUnique(doc: Doc, tuples: string[], isStale: (id: string) => boolean): void {
    assertUniqueIn(this, doc, tuples, isStale);
  }

  /** Ids in key order over the intervals (sorted ascending by start); descending when `reverse`. Ids may repeat. */
  *scan(intervals: KeyInterval[], reverse = false): Generator<string> {
    if (!reverse) {
      for (const { start, end } of intervals) {
        for (const key of this.tree.keys(start)) {
          if (end !== null && key >= end) break;
          yield this.idOf(key);
        }
      }
      return;
    }
    for (let i = intervals.length - 1; i >= 0; i--) {
      const { start, end } = intervals[i];
      const iterator = end === null ? this.tree.entriesReversed() : this.tree.entriesReversed(end, undefined, true);
      for (const [key] of iterator) {
        if (key < start) break;
        yield this.idOf(key);
      }
    }
  }

  /**
   * Ids in id order (descending when `reverse`) over intervals that each hold one whole key tuple, whose entries
   * are therefore already in id order: a k-way merge. Ids may repeat.
   */
  *scanById(intervals: KeyInterval[], reverse = false): Generator<string> {
    yield* mergeById(
      intervals.map((interval) => this.scanTuple(interval, reverse)),
      reverse,
    );
  }

  /** Ids of one whole-tuple interval, whose keys are its start followed by the id. */
  private *scanTuple({ start, end }: KeyInterval, reverse: boolean): Generator<string> {
    const at = start.length;
    if (!reverse) {
      for (const key of this.tree.keys(start)) {
        if (end !== null && key >= end) return;
        yield key.slice(at);
      }
      return;
    }
    const iterator = end === null ? this.tree.entriesReversed() : this.tree.entriesReversed(end, undefined, true);
    for (const [key] of iterator) {
      if (key < start) return;
      yield key.slice(at);
    }
  }

  /**
   * Ids of one whole-tuple interval, in ascending id order, that `keep` accepts: read in growing batches through
   * the tree's range callback (no iterator step per entry), for walks that skip most entries.
   */
  *keptIds({ start, end }: KeyInterval, keep: (id: string) => boolean): Generator<string> {
    const at = start.length;
    const high = end ?? this.tree.maxKey();
    if (high === undefined) return;
    let from = start;
    let resumed = false;
    for (let batch = 32; ; batch *= 2) {
      const kept: string[] = [];
      let last: string | undefined;
      this.tree.forRange(from, high, end === null, (key) => {
        if (resumed && key === from) return;
        last = key;
        const id = key.slice(at);
        if (keep(id) && kept.push(id) >= batch) return { break: true };
      });
      yield* kept;
      if (kept.length < batch || last === undefined) return;
      from = last;
      resumed = true;
    }
  }

  holds(tuple: string, id: string): boolean {
    return this.tree.has(tuple + id);
  }

  /**
   * Calls `fn` with the id of every entry in the intervals (in key order; ids may repeat), without the iterator
   * overhead of scan(). `wholeTuples`: each interval holds one whole key tuple (its start), so the id is the rest.
   */
  forEachId(intervals: KeyInterval[], wholeTuples: boolean, fn: (id: string) => void): void {
    for (const { start, end } of intervals) {
      const high = end ?? this.tree.maxKey();
      if (high === undefined) return;
      const at = start.length;
      this.tree.forRange(start, high, end === null, wholeTuples ? (key) => fn(key.slice(at)) : (key) => fn(this.idOf(key)));
    }
  }

  private idOf(key: string): string {
    return key.slice(encodedTupleLength(key, this.paths.length));
  }

  /**
   * Number of entries in the intervals, at most `cap`. O(log n) per interval, from the entry counts the B+ tree
   * caches in its internal nodes (see countInRange).
   */
  countUpTo(intervals: KeyInterval[], cap: number): number {
    let n = 0;
    for (const { start, end } of intervals) {
      n += countInRange((this.tree as unknown as { _root: TreeNode })._root, start, end);
      if (n >= cap) return cap;
    }
    return n;
  }
}

/**
 * The node shape of sorted-btree 2.x (pinned in package.json): an internal node's `keys[i]` is the largest key
 * under `children[i]` and its `size()` is its cached entry count; a leaf has no `children`.
 */
interface TreeNode {
  keys: string[];
  children?: TreeNode[];
  size(): number;
}

/**
 * Keys in [start, end) under `node` (`end` null: no upper bound). One descent while both bounds fall into the
 * same child; where they part, the children between them count whole and each bound is ranked within its own
 * child. Every child visited is a memory access (at millions of entries, a likely cache miss), so each sum over
 * children reads whichever side of the node has fewer of them.
 */
function countInRange(root: TreeNode, start: string, end: string | null): number {
  let node = root;
  while (node.children) {
    const last = node.keys.length;
    const i = lowerBound(node.keys, start);
    if (i === last) return 0;
    const k = end === null ? last : lowerBound(node.keys, end);
    if (k === i) {
      node = node.children[i];
      continue;
    }
    const first = node.children[i];
    let n = first.size() - keysBelow(first, start) + childrenSize(node, i + 1, k);
    if (k < last && end !== null) n += keysBelow(node.children[k], end);
    return n;
  }
  return (end === null ? node.keys.length : lowerBound(node.keys, end)) - lowerBound(node.keys, start);
}

/** Keys below `key` under `node`. */
function keysBelow(root: TreeNode, key: string): number {
  let node = root;
  let below = 0;
  while (node.children) {
    const i = lowerBound(node.keys, key);
    if (i === node.keys.length) return below + node.size();
    below += childrenSize(node, 0, i);
    node = node.children[i];
  }
  return below + lowerBound(node.keys, key);
}

/** Entries under children [from, to) of an internal node: summed directly or as the node's size minus the rest. */
function childrenSize(node: TreeNode, from: number, to: number): number {
  const children = node.children!;
  let n = 0;
  if (to - from <= children.length - (to - from)) {
    for (let j = from; j < to; j++) n += children[j].size();
    return n;
  }
  for (let j = 0; j < from; j++) n += children[j].size();
  for (let j = to; j < children.length; j++) n += children[j].size();
  return node.size() - n;
}

/** First position in sorted `keys` whose key is >= `key`. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
