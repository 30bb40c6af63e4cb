/** In-memory sort with MongoDB semantics (https://www.mongodb.com/docs/manual/reference/method/cursor.sort/). */
import type { Doc, SortSpec } from '../port';
import { compareSortKeys, sortKey, type SortKey } from './values';

/** Sorts in place; stable, so documents with equal keys keep their candidate order. */
export function sortDocuments(docs: Doc[], sort: SortSpec): Doc[] {
  const fields = sort.map(([path, direction]) => ({ segments: path.split('.'), direction }));
  const keyed = docs.map((doc) => ({ doc, keys: fields.map((f) => sortKey(doc, f.segments, f.direction)) as SortKey[] }));
  keyed.sort((a, b) => {
    for (let i = 0; i < fields.length; i++) {
      const c = compareSortKeys(a.keys[i], b.keys[i]);
      if (c !== 0) return c * fields[i].direction;
    }
    return 0;
  });
  for (let i = 0; i < keyed.length; i++) docs[i] = keyed[i].doc;
  return docs;
}
