/**
 * An ordered secondary index: a B+ tree of encoded compound keys (key-encoding.ts), each ending in the id of
 * its document (read back from the key, so the tree holds no values). Scans take half-open intervals of
 * encoded keys and cost O(log n + entries visited).
 */
import BTree from 'sorted-btree';
import { bulkLoad } from 'sorted-btree/extended/bulkLoad';
import type { Doc, IndexSpec } from '../port';
import { StorageConflict } from '../port';
import { KeyGenerator, type PositionShape } from './index-keys';
import { encodedTupleLength, prefixEnd } from './key-encoding';

/** [start, end) over encoded keys; `end` null means unbounded. */
export interface KeyInterval {
  start: string;
  end: string | null;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class SecondaryIndex {
  readonly spec: IndexSpec;
  readonly paths: string[];
  private readonly generator: KeyGenerator;
  private tree = new BTree<string, undefined>(undefined, compareStrings);

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.paths = spec.keys.map(([path]) => path);
    this.generator = new KeyGenerator(this.paths);
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
    if (!this.spec.unique) return;
    const clash = this.holders(tuples, doc._id).find((id) => !isStale(id));
    if (clash !== undefined) throw new StorageConflict(`unique index ${this.spec.name} already holds this key (document ${clash})`);
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

  private idOf(key: string): string {
    return key.slice(encodedTupleLength(key, this.paths.length));
  }

  /** Number of entries in the intervals, counting no further than `cap`. */
  countUpTo(intervals: KeyInterval[], cap: number): number {
    let n = 0;
    for (const { start, end } of intervals) {
      for (const key of this.tree.keys(start)) {
        if ((end !== null && key >= end) || n >= cap) break;
        n++;
      }
      if (n >= cap) return cap;
    }
    return n;
  }
}
