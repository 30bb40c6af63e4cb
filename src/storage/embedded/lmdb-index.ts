/**
 * A secondary index held as LMDB keys with empty values (lmdb-layout.ts): index prefix + encoded key tuple +
 * document id (relative to the key's type when the index has a `type` key, index-ids.ts), in the engine's own
 * order-preserving encoding (key-encoding.ts). Scans are LMDB cursor ranges
 * read in the current read snapshot; counts are native cursor walks, capped (planner.ts, COUNT_CAP).
 */
import type { Database } from 'lmdb';
import type { Doc, IndexSpec } from '../port';
import { assertUniqueIn, type IndexView, type KeyInterval } from './index-view';
import { KeyGenerator, type PositionShape } from './index-keys';
import { decodedStringAt, encodedTupleLength, prefixEnd } from './key-encoding';
import { idFromStored, storedId } from './index-ids';
import { tooLongForKey } from './lmdb-layout';
import { mergeById } from './ordered-ids';

/** What is kept of an index in the `meta` database. */
export interface StoredIndex {
  spec: IndexSpec;
  shapes: Array<Omit<PositionShape, 'arrayPrefixes' | 'objectPrefixes'> & { arrayPrefixes: string[]; objectPrefixes: string[] }>;
  incomplete?: boolean;
}

/** The first offset probed by countUpTo. */
const FIRST_PROBE = 64;

export class LmdbIndex implements IndexView {
  readonly spec: IndexSpec;
  readonly paths: string[];
  readonly prefix: string;
  incomplete = false;
  private readonly generator: KeyGenerator;
  /** Position of the `type` key, whose value the stored ids are relative to (index-ids.ts); -1: none, ids kept whole. */
  private readonly typeAt: number;

  constructor(
    /** The index's key prefix (lmdb-layout.ts, PrefixTable). */
    prefix: string,
    spec: IndexSpec,
    private db: Database<Buffer, string>,
    stored?: StoredIndex,
  ) {
    this.spec = spec;
    this.paths = spec.keys.map(([path]) => path);
    this.prefix = prefix;
    this.generator = new KeyGenerator(this.paths, spec.sparseOn, spec.only);
    this.typeAt = this.paths.indexOf('type');
    if (stored) {
      this.incomplete = stored.incomplete === true;
      stored.shapes.forEach((saved, i) => {
        const shape = this.generator.shapes[i];
        if (!shape || shape.path !== saved.path) return;
        shape.multikey = saved.multikey;
        shape.leafArray = saved.leafArray;
        shape.unordered = saved.unordered;
        shape.nestedArrays = saved.nestedArrays;
        for (const p of saved.arrayPrefixes) shape.arrayPrefixes.add(p);
        for (const p of saved.objectPrefixes) shape.objectPrefixes.add(p);
      });
    }
  }

  attach(db: Database<Buffer, string>): void {
    this.db = db;
  }

  get shapes(): readonly PositionShape[] {
    return this.generator.shapes;
  }

  /** The index as stored in `meta` (its shapes only ever gain flags, so a newer copy replaces an older one). */
  stored(): StoredIndex {
    return {
      spec: this.spec,
      shapes: this.generator.shapes.map((s) => ({ ...s, arrayPrefixes: [...s.arrayPrefixes], objectPrefixes: [...s.objectPrefixes] })),
      ...(this.incomplete ? { incomplete: true } : {}),
    };
  }

  /** A count that grows whenever key generation records something new about the shapes (or the index turns incomplete). */
  shapeMarks(): number {
    let n = this.incomplete ? 1 : 0;
    for (const s of this.generator.shapes) n += +s.multikey + +s.leafArray + +s.unordered + +s.nestedArrays + s.arrayPrefixes.size + s.objectPrefixes.size;
    return n;
  }

  tuples(doc: Doc): string[] {
    return this.generator.keys(doc);
  }

  /**
   * The LMDB keys of `doc`'s entries. A key over LMDB's size limit cannot be stored: the index then no longer
   * holds every document and is marked incomplete, so the planner stops using it (results stay the same).
   */
  entryKeys(doc: Doc): string[] {
    const type = typeof doc.type === 'string' ? doc.type : undefined;
    // The id every key ends in, when it does not depend on the tuple (no `type` key, or a string type: almost
    // always): then the generator builds each whole key in one join.
    const suffix = this.typeAt < 0 ? doc._id : type !== undefined ? storedId(type, doc._id) : undefined;
    const keys = suffix !== undefined ? this.generator.keys(doc, suffix, this.prefix) : this.generator.keys(doc).map((tuple) => this.prefix + tuple + this.suffix(tuple, doc._id));
    for (const key of keys) {
      if (tooLongForKey(key)) {
        this.incomplete = true;
        return keys.filter((k) => !tooLongForKey(k));
      }
    }
    return keys;
  }

  holders(tuples: string[], exceptId: string): string[] {
    const found: string[] = [];
    for (const tuple of tuples) {
      for (const key of this.keys(tuple, prefixEnd(tuple))) {
        const id = this.idOf(key);
        if (id !== exceptId) found.push(id);
      }
    }
    return found;
  }

  assertUnique(doc: Doc, tuples: string[], isStale: (id: string) => boolean): void {
    assertUniqueIn(this, doc, tuples, isStale);
  }

  *scan(intervals: KeyInterval[], reverse = false): Generator<string> {
    const order = reverse ? [...intervals].reverse() : intervals;
    for (const { start, end } of order) for (const key of this.keys(start, end, reverse)) yield this.idOf(key);
  }

  *scanById(intervals: KeyInterval[], reverse = false): Generator<string> {
    yield* mergeById(
      intervals.map((interval) => this.scanTuple(interval, reverse)),
      reverse,
    );
  }

  *keptIds(interval: KeyInterval, keep: (id: string) => boolean): Generator<string> {
    for (const id of this.scanTuple(interval, false)) if (keep(id)) yield id;
  }

  forEachId(intervals: KeyInterval[], wholeTuples: boolean, fn: (id: string) => void): void {
    for (const { start, end } of intervals) {
      if (!wholeTuples) {
        for (const key of this.keys(start, end)) fn(this.idOf(key));
        continue;
      }
      const at = this.prefix.length + start.length;
      const type = this.typeIn(start, 0);
      for (const key of this.keys(start, end)) fn(this.typeAt < 0 ? key.slice(at) : idFromStored(type, key.slice(at)));
    }
  }

  holds(tuple: string, id: string): boolean {
    return this.db.doesExist(this.prefix + tuple + this.suffix(tuple, id));
  }

  /**
   * Entries in the intervals, up to `cap`. Both native cursor walks cost per entry passed: skipping to an offset
   * does not stop at the range's end (it costs the offset however small the range), counting costs the whole
   * range however large. So growing offsets are probed first (64, 512, ... up to the cap): the first one past the
   * range's end tells the range is small and it is counted exactly; reaching the cap ends the count. Either way
   * the cost stays within a few times min(range, cap) entries.
   */
  countUpTo(intervals: KeyInterval[], cap: number): number {
    let n = 0;
    for (const { start, end } of intervals) {
      const range = this.range(start, end);
      const left = cap - n;
      if (left <= 0) return cap;
      for (let probe = FIRST_PROBE; Number.isFinite(left); probe *= 8) {
        if (probe >= left) {
          if (this.hasEntryAt(range, left - 1)) return cap;
          break;
        }
        if (!this.hasEntryAt(range, probe)) break;
      }
      n += this.db.getKeysCount(range);
    }
    return Math.min(n, cap);
  }

  private hasEntryAt(range: { start: string; end: string }, offset: number): boolean {
    for (const _ of this.db.getKeys({ ...range, offset, limit: 1 })) return true;
    return false;
  }

  private *scanTuple({ start, end }: KeyInterval, reverse: boolean): Generator<string> {
    const at = this.prefix.length + start.length;
    if (this.typeAt < 0) {
      for (const key of this.keys(start, end, reverse)) yield key.slice(at);
      return;
    }
    const type = this.typeIn(start, 0);
    for (const key of this.keys(start, end, reverse)) yield idFromStored(type, key.slice(at));
  }

  private range(start: string, end: string | null): { start: string; end: string } {
    return { start: this.prefix + start, end: end === null ? prefixEnd(this.prefix) : this.prefix + end };
  }

  private keys(start: string, end: string | null, reverse = false): Iterable<string> {
    const range = this.range(start, end);
    return this.db.getKeys(reverse ? { start: range.end, end: range.start, reverse: true } : range) as Iterable<string>;
  }

  /** The id after the key's tuple. */
  private idOf(key: string): string {
    const stored = key.slice(encodedTupleLength(key, this.paths.length, this.prefix.length));
    if (this.typeAt < 0) return stored;
    return idFromStored(stored.charCodeAt(0) === 2 ? this.typeIn(key, this.prefix.length) : undefined, stored);
  }

  /** What the key of `tuple` stores for `id` (`type`: the document's type, when known to be the tuple's). */
  private suffix(tuple: string, id: string, type = this.typeIn(tuple, 0)): string {
    return this.typeAt < 0 ? id : storedId(type, id);
  }

  /** The type in the key tuple that starts at `start` of `key` (undefined: not a string, or no type key). */
  private typeIn(key: string, start: number): string | undefined {
    if (this.typeAt < 0) return undefined;
    return decodedStringAt(key, this.typeAt === 0 ? start : encodedTupleLength(key, this.typeAt, start));
  }
}
