/**
 * Key generation for compound multikey indexes. Paths that share an array are expanded per array element
 * (so ['idx.tok.p', 'idx.tok.c'] yields one key per token entry, correlating `p` and `c`), paths under
 * different arrays are combined as a cartesian product, and nested arrays are flattened. Every document gets
 * at least one key (missing values and empty arrays index as null), so an index walk sees every document;
 * except in a sparse index (IndexSpec.sparseOn), which drops the tuples that are null at one of its paths.
 */
import { encodeKeyValue, isOrderExact } from './key-encoding';
import { isPlainObject } from './values';

interface PathNode {
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

  constructor(paths: string[], sparseOn: readonly string[] = []) {
    this.width = paths.length;
    this.required = sparseOn.map((path) => {
      const position = paths.indexOf(path);
      if (position < 0) throw new Error(`sparseOn path ${path} is not a key of the index`);
      return position;
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
    this.root = { ends: [], positions: [], children: new Map(), childList: [] };
    paths.forEach((path, position) => {
      let node = this.root;
      node.positions.push(position);
      for (const segment of path.split('.')) {
        let child = node.children.get(segment);
        if (!child) {
          child = { ends: [], positions: [], children: new Map(), childList: [] };
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
   */
  keys(doc: Record<string, unknown>, suffix = '', prefix = ''): string[] {
    let tuples = this.expandObject(doc, this.root, '');
    if (this.required.length) tuples = tuples.filter((tuple) => this.required.every((position) => tuple[position] !== ENCODED_NULL));
    if (tuples.length === 0) return [];
    if (tuples.length === 1) return [joined(tuples[0], prefix, suffix)];
    const keys = new Set<string>();
    for (const tuple of tuples) keys.add(joined(tuple, prefix, suffix));
    return [...keys];
  }

  /**
   * The tuples of the positions below `trie`. Children hold disjoint positions, and every tuple built here or
   * returned by expandValue is a fresh array that nothing else holds, so partial tuples are completed in place:
   * a copy is made only for a real product (several tuples on both sides).
   */
  private expandObject(node: Record<string, unknown>, trie: PathNode, prefix: string): string[][] {
    let result: string[][] = [new Array<string>(this.width)];
    const children = trie.childList;
    for (let i = 0; i < children.length; i++) {
      const [segment, child] = children[i];
      const value = node[segment];
      if (!Array.isArray(value) && !isPlainObject(value)) {
        // A scalar or a missing value (the most frequent case): the same components in every tuple.
        this.setScalar(result, value, child);
        continue;
      }
      const partials = this.expandValue(value, child, prefix + segment);
      if (result.length === 1) {
        const only = result[0];
        for (const tuple of partials) merge(tuple, only);
        result = partials;
      } else if (partials.length === 1) {
        for (const tuple of result) merge(tuple, partials[0]);
      } else {
        result = product(result, partials);
      }
    }
    return result;
  }

  /**
   * A value that is neither an array nor an embedded document, at `trie`, set in every tuple: its encoding at
   * the positions whose path ends here, null below (what expandValue yields for it, without building a tuple).
   */
  private setScalar(tuples: string[][], value: unknown, trie: PathNode): void {
    const ends = trie.ends;
    if (ends.length) {
      const encoded = encodeKeyValue(value);
      const exact = isOrderExact(value);
      for (const position of ends) {
        for (const tuple of tuples) tuple[position] = encoded;
        if (!exact) this.shapes[position].unordered = true;
      }
    }
    if (trie.children.size === 0) return;
    for (const position of trie.positions) {
      if (ends.length && ends.includes(position)) continue;
      for (const tuple of tuples) tuple[position] = ENCODED_NULL;
    }
  }

  /** `element`: the value is an element of an array at `path`. */
  private expandValue(value: unknown, trie: PathNode, path: string, element = false): string[][] {
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
      for (const item of value) for (const tuple of this.expandValue(item, trie, path, true)) out.push(tuple);
      return out;
    }
    if (!element && !trie.objectSeen && isPlainObject(value)) this.sawObject(trie, path);
    if (trie.ends.length === 0 && isPlainObject(value)) return this.expandObject(value, trie, path + '.');
    const own = new Array<string>(this.width);
    if (trie.ends.length) {
      const encoded = encodeKeyValue(value);
      for (const position of trie.ends) {
        own[position] = encoded;
        if (!isOrderExact(value)) this.shapes[position].unordered = true;
      }
    }
    if (trie.children.size === 0) return [own];
    const below = isPlainObject(value) ? this.expandObject(value, trie, path + '.') : [this.nulls(trie)];
    return below.map((tuple) => merge(tuple, own));
  }

  private sawObject(trie: PathNode, path: string): void {
    trie.objectSeen = true;
    for (const position of trie.positions) this.shapes[position].objectPrefixes.add(path);
  }

  private nulls(trie: PathNode): string[] {
    const tuple = new Array<string>(this.width);
    for (const position of trie.positions) tuple[position] = ENCODED_NULL;
    return tuple;
  }
}

const ENCODED_NULL = encodeKeyValue(null);

/** `prefix`, the tuple's components and `suffix` as one flat string. */
function joined(tuple: string[], prefix: string, suffix: string): string {
  if (prefix !== '') tuple.unshift(prefix);
  tuple.push(suffix);
  return tuple.join('');
}

function merge(into: string[], from: string[]): string[] {
  for (let i = 0; i < from.length; i++) if (from[i] !== undefined) into[i] = from[i];
  return into;
}

function product(left: string[][], right: string[][]): string[][] {
  const out: string[][] = [];
  for (const a of left) for (const b of right) out.push(merge(merge(new Array<string>(a.length), a), b));
  return out;
}
