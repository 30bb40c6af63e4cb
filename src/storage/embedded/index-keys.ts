/**
 * Key generation for compound multikey indexes. Paths that share an array are expanded per array element
 * (so ['idx.tok.p', 'idx.tok.c'] yields one key per token entry, correlating `p` and `c`), paths under
 * different arrays are combined as a cartesian product, and nested arrays are flattened. Every document gets
 * at least one key (missing values and empty arrays index as null), so an index walk sees every document;
 * except in a sparse index (IndexSpec.sparseOn), which drops the tuples that are null at one of its paths, and in
 * a partial one (IndexSpec.only), which keeps only the tuples with listed values at its paths.
 */
import { setBounded } from '../../core/bounded-map';
import { encodeKeyValue, isOrderExact } from './key-encoding';
import { isPlainObject } from './values';

interface PathNode {
  /** The dotted path from the document's root to this node (shapes are recorded by path). */
  path: string;
  /** Index positions whose path ends at this node. */
  ends: number[];
  /** Every index position at or below this node. */
  positions: number[];
  children: Map<string, PathNode>;
  /** `children` as a list, iterated for every indexed document. */
  childList: Array<[segment: string, child: PathNode]>;
  /** An embedded document stood on its own at this path (recorded in the shapes once). */
  objectSeen?: boolean;
}

/** What key generation has seen at one index position; used by the planner to decide which bounds are sound. */
export interface PositionShape {
  path: string;
  /** Prefixes of `path` (including `path` itself) where an array was met. */
  arrayPrefixes: Set<string>;
  /** An array was met somewhere along `path`. */
  multikey: boolean;
  /** An array was met at the full `path` (its values may be arrays). */
  leafArray: boolean;
  /** A value whose encoded order differs from MongoDB sort order (an embedded document) was indexed. */
  unordered: boolean;
  /**
   * An array held an array somewhere along `path`. Keys flatten nested arrays, which a MongoDB path does not
   * descend into, so entries may then match documents the query does not.
   */
  nestedArrays: boolean;
  /**
   * Prefixes of `path` where an embedded document stood on its own (not as an array element). An `$elemMatch`
   * there matches nothing, while the keys index the document's fields as usual.
   */
  objectPrefixes: Set<string>;
}

export class KeyGenerator {
  readonly shapes: PositionShape[];
  private readonly root: PathNode;
  private readonly width: number;
  /** Positions of IndexSpec.sparseOn. */
  private readonly required: number[];
  /** Positions of IndexSpec.only, with the encodings of the values kept there. */
  private readonly kept: Array<[position: number, encoded: Set<string>]>;

  constructor(paths: string[], sparseOn: readonly string[] = [], only: ReadonlyArray<readonly [string, readonly string[]]> = []) {
    this.width = paths.length;
    this.required = sparseOn.map((path) => {
      const position = paths.indexOf(path);
      if (position < 0) throw new Error(`sparseOn path ${path} is not a key of the index`);
      return position;
    });
    this.kept = only.map(([path, values]) => {
      const position = paths.indexOf(path);
      if (position < 0) throw new Error(`only path ${path} is not a key of the index`);
      return [position, new Set(values.map((v) => encodeKeyValue(v)))];
    });
    this.shapes = paths.map((path) => ({
      path,
      arrayPrefixes: new Set<string>(),
      multikey: false,
      leafArray: false,
      unordered: false,
      nestedArrays: false,
      objectPrefixes: new Set<string>(),
    }));
    this.root = { path: '', ends: [], positions: [], children: new Map(), childList: [] };
    paths.forEach((path, position) => {
      let node = this.root;
      node.positions.push(position);
      for (const segment of path.split('.')) {
        let child = node.children.get(segment);
        if (!child) {
          child = { path: node === this.root ? segment : `${node.path}.${segment}`, ends: [], positions: [], children: new Map(), childList: [] };
          node.children.set(segment, child);
          node.childList.push([segment, child]);
        }
        child.positions.push(position);
        node = child;
      }
      node.ends.push(position);
    });
  }

  /**
   * Distinct encoded key tuples of `doc`, each followed by `suffix` (the document id, or nothing) and led by
   * `prefix` (an engine's index prefix, or nothing). Each key is built by one join, so it is a flat string rather
   * than a concatenation that would be flattened later (when it is hashed or written out as UTF-8).
   * A tuple is an array of width + 2: its first and last slots are left for the prefix and the suffix, so that
   * the join needs no copy of it (index position i is slot i + 1).
   */
  keys(doc: Record<string, unknown>, suffix = '', prefix = ''): string[] {
    const tuples = this.expandObject(doc, this.root);
    const keys: string[] = [];
    // Most documents have a few keys per index: a linear check is cheaper than a Set until there are many.
    let seen: Set<string> | undefined;
    for (const tuple of tuples) {
      if (this.required.length && this.required.some((position) => tuple[position + 1] === ENCODED_NULL)) continue;
      if (this.kept.length && this.kept.some(([position, encoded]) => !encoded.has(tuple[position + 1] as string))) continue;
      tuple[0] = prefix;
      tuple[this.width + 1] = suffix;
      const key = tuple.join('');
      if (seen) {
        if (seen.has(key)) continue;
        seen.add(key);
      } else if (keys.includes(key)) continue;
      else if (keys.length === 15) seen = new Set([...keys, key]);
      keys.push(key);
    }
    return keys;
  }

  /**
   * The tuples of the positions below `trie`. Children hold disjoint positions, and every tuple built here or
   * returned by expandValue is a fresh array that nothing else holds, so partial tuples are completed in place:
   * a copy is made only for a real product (several tuples on both sides).
   */
  private expandObject(node: Record<string, unknown>, trie: PathNode, out?: string[][]): string[][] {
    const children = trie.childList;
    // Arrays and embedded documents first: they make the tuples, which the scalars are then set in (no tuple is
    // made only to be merged into the first partials and dropped).
    let result: string[][] | undefined;
    for (let i = 0; i < children.length; i++) {
      const entry = children[i];
      const value = node[entry[0]];
      if (isScalar(value)) continue;
      const partials = this.expandValue(value, entry[1]);
      if (!result) {
        result = partials;
      } else if (result.length === 1) {
        const only = result[0];
        for (const tuple of partials) merge(tuple, only);
        result = partials;
      } else if (partials.length === 1) {
        for (const tuple of result) merge(tuple, partials[0]);
      } else {
        result = product(result, partials);
      }
    }
    // The tuples go to `out` when given (an array's elements collect theirs there), else they are returned.
    const from = out ? out.length : 0;
    let tuples: string[][];
    if (!out) tuples = result ?? [this.tuple()];
    else {
      if (result) for (const tuple of result) out.push(tuple);
      else out.push(this.tuple());
      tuples = out;
    }
    for (let i = 0; i < children.length; i++) {
      const entry = children[i];
      const value = node[entry[0]];
      // A scalar or a missing value (the most frequent case): the same components in every tuple.
      if (isScalar(value)) this.setScalar(tuples, from, value, entry[1]);
    }
    return tuples;
  }

  /**
   * A value that is neither an array nor an embedded document, at `trie`, set in every tuple: its encoding at
   * the positions whose path ends here, null below (what expandValue yields for it, without building a tuple).
   */
  private setScalar(tuples: string[][], from: number, value: unknown, trie: PathNode): void {
    const ends = trie.ends;
    if (ends.length) {
      const encoded = encodedValue(value);
      const exact = isOrderExact(value);
      for (const position of ends) {
        for (let t = from; t < tuples.length; t++) tuples[t][position + 1] = encoded;
        if (!exact) this.shapes[position].unordered = true;
      }
    }
    if (trie.children.size === 0) return;
    for (const position of trie.positions) {
      if (ends.length && ends.includes(position)) continue;
      for (let t = from; t < tuples.length; t++) tuples[t][position + 1] = ENCODED_NULL;
    }
  }

  /** `element`: the value is an element of an array at the node's path. */
  private expandValue(value: unknown, trie: PathNode, element = false): string[][] {
    const path = trie.path;
    if (Array.isArray(value)) {
      for (const position of trie.positions) {
        const shape = this.shapes[position];
        shape.multikey = true;
        shape.arrayPrefixes.add(path);
        if (element) shape.nestedArrays = true;
      }
      for (const position of trie.ends) this.shapes[position].leafArray = true;
      if (value.length === 0) return [this.nulls(trie)];
      const out: string[][] = [];
      for (const item of value) {
        // An embedded document in the array adds its tuples to `out` itself (as expandValue would return them).
        if (trie.ends.length === 0 && isPlainObject(item)) this.expandObject(item, trie, out);
        else for (const tuple of this.expandValue(item, trie, true)) out.push(tuple);
      }
      return out;
    }
    if (!element && !trie.objectSeen && isPlainObject(value)) this.sawObject(trie, path);
    if (trie.ends.length === 0 && isPlainObject(value)) return this.expandObject(value, trie);
    const own = this.tuple();
    if (trie.ends.length) {
      const encoded = encodedValue(value);
      for (const position of trie.ends) {
        own[position + 1] = encoded;
        if (!isOrderExact(value)) this.shapes[position].unordered = true;
      }
    }
    if (trie.children.size === 0) return [own];
    const below = isPlainObject(value) ? this.expandObject(value, trie) : [this.nulls(trie)];
    return below.map((tuple) => merge(tuple, own));
  }

  private sawObject(trie: PathNode, path: string): void {
    trie.objectSeen = true;
    for (const position of trie.positions) this.shapes[position].objectPrefixes.add(path);
  }

  private nulls(trie: PathNode): string[] {
    const tuple = this.tuple();
    for (const position of trie.positions) tuple[position + 1] = ENCODED_NULL;
    return tuple;
  }

  /** An empty tuple (see keys()). */
  private tuple(): string[] {
    return new Array<string>(this.width + 2);
  }
}

const ENCODED_NULL = encodeKeyValue(null);

/**
 * The encodings of recent short strings. Most index values recur from record to record (a resource type, a
 * parameter name, a code system, a patient's reference), and each encoding is otherwise a new string: about a
 * fifth of what key generation allocated.
 */
const recentStrings = new Map<string, string>();
const RECENT_STRINGS = 8192;
const RECENT_MAX_LENGTH = 100;

function encodedValue(value: unknown): string {
  if (typeof value !== 'string' || value.length > RECENT_MAX_LENGTH) return encodeKeyValue(value);
  let encoded = recentStrings.get(value);
  if (encoded === undefined) {
    encoded = encodeKeyValue(value);
    setBounded(recentStrings, value, encoded, RECENT_STRINGS);
  }
  return encoded;
}

/** Neither an array nor an embedded document (a missing value included). */
const isScalar = (value: unknown): boolean => typeof value !== 'object' || value === null || (!Array.isArray(value) && !isPlainObject(value));

function merge(into: string[], from: string[]): string[] {
  for (let i = 0; i < from.length; i++) if (from[i] !== undefined) into[i] = from[i];
  return into;
}

function product(left: string[][], right: string[][]): string[][] {
  const out: string[][] = [];
  for (const a of left) for (const b of right) out.push(merge(merge(new Array<string>(a.length), a), b));
  return out;
}
