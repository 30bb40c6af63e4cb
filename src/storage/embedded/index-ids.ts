/**
 * The document id at the end of an LMDB index key (lmdb-layout.ts, layout 2), when the index has `type` among its
 * keys: a record's `_id` is `Type/id` (src/storage/records.ts) and the type is already in the key, so the key ends
 * in a tag and the id without `Type/` ("Observation/" is 12 of a key's ~63 bytes). Ids of one key tuple (one type)
 * keep their order: those that start with `Type/` are one contiguous block of that order, so ids before it, the
 * block (shortened) and ids after it are told apart by a tag that sorts them in that order.
 */
const BEFORE = '\u0001';
const WITHIN = '\u0002';
const AFTER = '\u0003';

/** What the key stores for `id` under type `type` (undefined: the key's type is not a string; the id is kept whole). */
export function storedId(type: string | undefined, id: string): string {
  if (type === undefined) return BEFORE + id;
  if (id.length > type.length && id.charCodeAt(type.length) === 0x2f && id.startsWith(type)) return WITHIN + id.slice(type.length + 1);
  return (id < `${type}/` ? BEFORE : AFTER) + id;
}

/** The id that storedId() made `stored` of. */
export function idFromStored(type: string | undefined, stored: string): string {
  return stored.charCodeAt(0) === 2 ? `${type}/${stored.slice(1)}` : stored.slice(1);
}
