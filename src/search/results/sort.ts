/**
 * Result ordering (https://hl7.org/fhir/R4/search.html#sort): `_sort` keys mapped onto stored fields, always
 * followed by the record key `_id` so the order is total, plus the keyset ("seek") conditions paging uses to
 * continue after a known position. Missing values order like MongoDB orders them: before every value when
 * ascending, after every value when descending.
 */
import type { Filter, SortSpec } from '../../storage/port';

/** One ordering key over a field of ResourceRecord. */
export interface SortKey {
  /** The `_sort` code as the client wrote it (`_id`, `_lastUpdated`, `birthdate`); `_key` for the tie-breaker. */
  code: string;
  /** Dotted path in ResourceRecord: `id`, `lastUpdated`, `idx.so.birthdate`, `_id`. */
  field: string;
  direction: 1 | -1;
}

/** A position in the order: one value per key (null when the record has none), the last one the record `_id`. */
export type SortValue = string | number | null;

export const TIE_BREAKER: SortKey = Object.freeze({ code: '_key', field: '_id', direction: 1 });

/** The stored field a `_sort` code orders by. */
export function sortField(code: string): string {
  if (code === '_id') return 'id';
  if (code === '_lastUpdated') return 'lastUpdated';
  return `idx.so.${code}`;
}

/** The keys as requested followed by the `_id` tie-breaker. */
export function totalOrder(keys: readonly SortKey[]): SortKey[] {
  return [...keys.filter((k) => k.field !== TIE_BREAKER.field), TIE_BREAKER];
}

export const toSortSpec = (keys: readonly SortKey[]): SortSpec => keys.map((k) => [k.field, k.direction]);

export const reversed = (keys: readonly SortKey[]): SortKey[] =>
  keys.map((k) => ({ ...k, direction: k.direction === 1 ? -1 : 1 }));

/** The record's position for these keys (a non-scalar value counts as missing). */
export function positionOf(record: object, keys: readonly SortKey[]): SortValue[] {
  return keys.map((k) => {
    let value: unknown = record;
    for (const segment of k.field.split('.')) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
    }
    return typeof value === 'string' || typeof value === 'number' ? value : null;
  });
}

/**
 * How the store orders strings: MongoDB compares UTF-8 bytes (code point order); the embedded engine compares
 * UTF-16 code units. They differ only for characters outside the BMP against U+E000..U+FFFF.
 */
export type StringOrder = 'code-point' | 'utf-16';

/** MongoDB's order between values: null first, then numbers, then strings. */
export function compareValues(a: SortValue, b: SortValue, strings: StringOrder = 'code-point'): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : 1;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  if (strings === 'utf-16') return a < b ? -1 : 1;
  return compareCodePoints(a, b);
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Compares two positions under these keys (negative: `a` comes first). */
export function comparePositions(
  a: readonly SortValue[],
  b: readonly SortValue[],
  keys: readonly SortKey[],
  strings: StringOrder = 'code-point',
): number {
  for (let i = 0; i < keys.length; i++) {
    const c = compareValues(a[i] ?? null, b[i] ?? null, strings);
    if (c !== 0) return c * keys[i].direction;
  }
  return 0;
}

/**
 * The filter matching exactly the records ordered strictly after `position` under `keys`:
 * OR over i of (keys before i equal, key i after). `keys` must end with the unique tie-breaker.
 */
export function afterPosition(keys: readonly SortKey[], position: readonly SortValue[]): Filter {
  const branches: Filter[] = [];
  for (let i = 0; i < keys.length; i++) {
    const after = afterValue(keys[i], position[i] ?? null);
    if (!after) continue;
    const equal = keys.slice(0, i).map((k, j): Filter => ({ [k.field]: position[j] ?? null }));
    branches.push(equal.length ? { $and: [...equal, after] } : after);
  }
  if (!branches.length) return { _id: { $in: [] } };
  return branches.length === 1 ? branches[0] : { $or: branches };
}

/** Values of one key strictly after `value`; undefined when nothing can be (null is last when descending). */
function afterValue(key: SortKey, value: SortValue): Filter | undefined {
  if (key.direction === 1) return value === null ? { [key.field]: { $ne: null } } : { [key.field]: { $gt: value } };
  if (value === null) return undefined;
  return { $or: [{ [key.field]: { $lt: value } }, { [key.field]: null }] };
}
