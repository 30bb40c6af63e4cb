/**
 * Folds an access filter into an equivalent smaller one before it is cached: the consent trees of
 * src/access/consent/decision.ts are written plainly and repeat criteria, and the compiled search criteria carry
 * `type` and empty alternatives. Every record a request touches is tested against the result (inside the
 * queries and in the final check), so its size is paid per record. Only logical identities are applied:
 * - `{}` is true and MATCH_NOTHING false, through `$and`, `$or` and `$nor`; nested `$and`s flatten; repeated
 *   operands go;
 * - under a known resource type, `type: <that type>` is true and `type: <another>` false;
 * - `deleted: false` is true: access filters judge live records only (every query carries `deleted: false`
 *   itself, and a tombstone is judged by the version it deleted, src/fhir/persist.ts), so it holds wherever
 *   they are tested.
 */
import type { Filter } from '../storage/port';
import { MATCH_NOTHING } from '../search/compile/filters';

const TRUE: Filter = {};

export function compactFilter(filter: Filter, type?: string): Filter {
  const parts: Filter[] = [];
  for (const [key, value] of Object.entries(filter)) {
    const part = compactPart(key, value, type);
    if (isFalse(part)) return MATCH_NOTHING;
    if (!isTrue(part)) parts.push(part);
  }
  return conjunction(parts);
}

function compactPart(key: string, value: unknown, type: string | undefined): Filter {
  if (key === 'deleted' && value === false) return TRUE;
  if (key === 'type' && type !== undefined && typeof value === 'string') return value === type ? TRUE : MATCH_NOTHING;
  if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value) && value.length > 0) {
    const operands = distinct((value as Filter[]).map((v) => compactFilter(v, type)));
    if (key === '$and') return conjunction(operands.filter((o) => !isTrue(o)).flatMap((o) => (isFalse(o) ? [MATCH_NOTHING] : [o])));
    const any = operands.some(isTrue);
    const live = operands.filter((o) => !isFalse(o));
    if (key === '$or') return any ? TRUE : live.length === 0 ? MATCH_NOTHING : live.length === 1 ? (live[0] as Filter) : { $or: live };
    return any ? MATCH_NOTHING : live.length === 0 ? TRUE : { $nor: live };
  }
  if (key === '_id' && isFalse({ _id: value })) return MATCH_NOTHING;
  return { [key]: value };
}

/** The conjunction of compacted parts: false if any is false; fields merged into one document where they do not clash. */
function conjunction(parts: Filter[]): Filter {
  if (parts.some(isFalse)) return MATCH_NOTHING;
  const flat = distinct(parts.flatMap((p) => (Object.keys(p).length === 1 && Array.isArray(p.$and) ? (p.$and as Filter[]) : [p])));
  if (flat.length === 0) return TRUE;
  if (flat.length === 1) return flat[0] as Filter;
  return { $and: flat };
}

function distinct(filters: Filter[]): Filter[] {
  const seen = new Set<string>();
  return filters.filter((f) => {
    const key = JSON.stringify(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const isTrue = (f: Filter): boolean => Object.keys(f).length === 0;

/** MATCH_NOTHING or a copy of it: `{ _id: { $in: [] } }`. */
function isFalse(f: Filter): boolean {
  if (f === MATCH_NOTHING) return true;
  const keys = Object.keys(f);
  if (keys.length !== 1 || keys[0] !== '_id') return false;
  const id = f._id as { $in?: unknown } | undefined;
  return typeof id === 'object' && id !== null && Object.keys(id).length === 1 && Array.isArray(id.$in) && id.$in.length === 0;
}
