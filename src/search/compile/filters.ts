/**
 * Small builders for the MongoDB query documents the criteria compile to. Every condition on an index array
 * goes through `$elemMatch`, so the parameter code and the value hold for the same entry
 * (src/search/index-fields.ts). Values from the query string only ever appear as operands, never as keys.
 */
import type { Filter } from '../../storage/port';
import type { IndexFields } from '../index-fields';

export type IndexArray = Exclude<keyof IndexFields, 'has' | 'so'>;

/** A filter no document satisfies (every stored document has a string `_id`). */
export const MATCH_NOTHING: Filter = Object.freeze({ _id: { $in: [] } });

/** Documents with at least one `array` entry of parameter `code` satisfying one of `alternatives` (OR). */
export function anyEntry(array: IndexArray, code: string, alternatives: Filter[]): Filter {
  const match = alternatives.length === 1 ? { p: code, ...alternatives[0] } : { p: code, $or: alternatives };
  return { [`idx.${array}`]: { $elemMatch: match } };
}

/**
 * `filter` (as anyEntry and noEntry build it) with each entry condition on parameter `code` matching entries of
 * any of `codes` instead: the parameters a query on `code` reads entries of (src/search/registry/shared-entries.ts).
 */
export function widenEntryCode(filter: Filter, code: string, codes: readonly string[]): Filter {
  const out: Filter = {};
  for (const [key, value] of Object.entries(filter)) {
    if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value)) {
      out[key] = value.map((f: Filter) => widenEntryCode(f, code, codes));
      continue;
    }
    const match = key.startsWith('idx.') ? (value as { $elemMatch?: Filter } | null)?.$elemMatch : undefined;
    if (match?.p === code) out[key] = { ...(value as Filter), $elemMatch: { ...match, p: { $in: [...codes] } } };
    else out[key] = value;
  }
  return out;
}

/** Documents with no `array` entry of parameter `code` satisfying any of `alternatives`. */
export function noEntry(array: IndexArray, code: string, alternatives: Filter[]): Filter {
  return { $nor: [anyEntry(array, code, alternatives)] };
}

export function or(filters: Filter[]): Filter {
  return filters.length === 1 ? filters[0]! : { $or: filters };
}

export function and(filters: Filter[]): Filter {
  const parts = filters.filter((f) => Object.keys(f).length > 0);
  if (parts.length === 0) return {};
  return parts.length === 1 ? parts[0]! : { $and: parts };
}

/** Range that selects strings starting with `prefix` (index friendly, no regular expression). */
export function startsWith(prefix: string): Filter {
  return { $gte: prefix, $lt: `${prefix}\uffff` };
}

/** `text` as a regular expression source matching it literally (https://www.mongodb.com/docs/manual/reference/operator/query/regex/). */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
