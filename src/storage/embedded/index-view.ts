/**
 * What the planner and query execution need of a secondary index, whichever engine holds its entries: the
 * in-memory B+ tree (secondary-index.ts) or LMDB keys (lmdb-index.ts). Entries are encoded key tuples
 * (key-encoding.ts, index-keys.ts) each followed by the document id, in encoded-key order.
 */
import { StorageConflict, type Doc, type IndexSpec } from '../port';
import type { PositionShape } from './index-keys';

/** [start, end) over encoded keys; `end` null means unbounded. */
export interface KeyInterval {
  start: string;
  end: string | null;
}

export interface IndexView {
  readonly spec: IndexSpec;
  readonly paths: string[];
  readonly shapes: readonly PositionShape[];
  /**
   * Some document's key did not fit the engine's key size limit, so the index does not hold every document and
   * the planner leaves it out (the other indexes, or a scan, answer the same).
   */
  readonly incomplete?: boolean;
  /** Key tuples of `doc` (without its id). */
  tuples(doc: Doc): string[];
  /** Ids of other documents holding one of `tuples` (unique index check). */
  holders(tuples: string[], exceptId: string): string[];
  /** Throws StorageConflict when a unique index would hold a key twice. */
  assertUnique(doc: Doc, tuples: string[], isStale: (id: string) => boolean): void;
  /** Ids in key order over the intervals (sorted ascending by start); descending when `reverse`. Ids may repeat. */
  scan(intervals: KeyInterval[], reverse?: boolean): Generator<string>;
  /** Ids in id order over intervals that each hold one whole key tuple (a k-way merge). Ids may repeat. */
  scanById(intervals: KeyInterval[], reverse?: boolean): Generator<string>;
  /** Ids of one whole-tuple interval, ascending, that `keep` accepts. */
  keptIds(interval: KeyInterval, keep: (id: string) => boolean): Generator<string>;
  /** Calls `fn` with the id of every entry in the intervals (key order; ids may repeat). */
  forEachId(intervals: KeyInterval[], wholeTuples: boolean, fn: (id: string) => void): void;
  /** Whether the index holds the entry of document `id` under the whole key tuple `tuple` (a point lookup). */
  holds(tuple: string, id: string): boolean;
  /** Number of entries in the intervals, counted up to `cap` (the result is `cap` when there are at least as many). */
  countUpTo(intervals: KeyInterval[], cap: number): number;
}

/** Throws StorageConflict when a unique index would hold a key of `doc` twice (entries of stale ids aside). */
export function assertUniqueIn(index: IndexView, doc: Doc, tuples: string[], isStale: (id: string) => boolean): void {
  if (!index.spec.unique) return;
  const clash = index.holders(tuples, doc._id).find((id) => !isStale(id));
  if (clash !== undefined) throw new StorageConflict(`unique index ${index.spec.name} already holds this key (document ${clash})`);
}
