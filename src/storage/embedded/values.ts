/**
 * MongoDB value ordering and sort keys for the embedded engine
 * (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/).
 * Strings compare by UTF-16 code unit, which equals MongoDB's binary comparison except for characters outside
 * the Basic Multilingual Plane against U+E000..U+FFFF.
 */

/** BSON comparison order of the JSON-representable types (plus Date). */
export const enum TypeRank {
  Null = 1,
  Number = 2,
  String = 3,
  Object = 4,
  Array = 5,
  Boolean = 8,
  Date = 9,
  Other = 11,
}

export function typeRank(value: unknown): TypeRank {
  if (value === null || value === undefined) return TypeRank.Null;
  switch (typeof value) {
    case 'number':
      return TypeRank.Number;
    case 'string':
      return TypeRank.String;
    case 'boolean':
      return TypeRank.Boolean;
    case 'object':
      if (Array.isArray(value)) return TypeRank.Array;
      if (value instanceof Date) return TypeRank.Date;
      if (isPlainObject(value)) return TypeRank.Object;
      return TypeRank.Other;
    default:
      return TypeRank.Other;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Total order over values with MongoDB semantics (null and missing are equal; NaN sorts below every number). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case TypeRank.Null:
      return 0;
    case TypeRank.Number: {
      const x = a as number;
      const y = b as number;
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case TypeRank.String:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case TypeRank.Boolean:
      return a === b ? 0 : a ? 1 : -1;
    case TypeRank.Date:
      return (a as Date).getTime() - (b as Date).getTime();
    case TypeRank.Array:
      return compareArrays(a as unknown[], b as unknown[]);
    case TypeRank.Object:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
    default:
      return 0;
  }
}

function compareArrays(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Objects compare field by field in stored order: first the value's type, then the field name, then the value. */
function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ea = Object.entries(a);
  const eb = Object.entries(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    const [ka, va] = ea[i];
    const [kb, vb] = eb[i];
    const byType = typeRank(va) - typeRank(vb);
    if (byType !== 0) return byType;
    if (ka !== kb) return ka < kb ? -1 : 1;
    const byValue = compareValues(va, vb);
    if (byValue !== 0) return byValue;
  }
  return ea.length - eb.length;
}

/** Marker for an empty array in sort position: it sorts before null and missing values. */
export const EMPTY_ARRAY_SORT_KEY: unique symbol = Symbol('empty array');
export type SortKey = unknown;

/**
 * The value a document sorts by on `path`: arrays (also those reached through a dotted path) contribute their
 * smallest element in an ascending sort and their largest in a descending one
 * (https://www.mongodb.com/docs/manual/reference/method/cursor.sort/#sort-with-arrays).
 */
export function sortKey(doc: unknown, path: string[], direction: 1 | -1): SortKey {
  const found: unknown[] = [];
  const viaArray = collect(doc, path, 0, found);
  if (!viaArray) return found.length ? (found[0] ?? null) : null;
  if (found.length === 0) return EMPTY_ARRAY_SORT_KEY;
  let best = found[0] ?? null;
  for (let i = 1; i < found.length; i++) {
    const c = compareValues(found[i] ?? null, best);
    if (direction === 1 ? c < 0 : c > 0) best = found[i] ?? null;
  }
  return best;
}

/** Collects the values at `path`, descending through arrays; returns whether an array was traversed. */
function collect(node: unknown, path: string[], depth: number, out: unknown[]): boolean {
  if (depth === path.length) {
    if (Array.isArray(node)) {
      out.push(...node);
      return true;
    }
    out.push(node);
    return false;
  }
  if (Array.isArray(node)) {
    let viaArray = true;
    for (const element of node) {
      if (isPlainObject(element)) viaArray = collect(element, path, depth, out) || viaArray;
    }
    return viaArray;
  }
  if (!isPlainObject(node)) {
    out.push(undefined);
    return false;
  }
  return collect(node[path[depth]], path, depth + 1, out);
}

export function compareSortKeys(a: SortKey, b: SortKey): number {
  if (a === EMPTY_ARRAY_SORT_KEY) return b === EMPTY_ARRAY_SORT_KEY ? 0 : -1;
  if (b === EMPTY_ARRAY_SORT_KEY) return 1;
  return compareValues(a, b);
}
