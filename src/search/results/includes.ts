/**
 * `_include` and `_revinclude` (https://hl7.org/fhir/R4/search.html#include): resources referenced by the page's
 * matches, or referring to them, found through the stored reference index (idx.ref entries keyed `Type/id`).
 * `:iterate` specs are applied again to what the previous round added, for a bounded number of rounds; the
 * total number of included resources is capped. Every query is ANDed with the caller's live filter, which
 * carries the deleted:false condition and the access scope.
 */
import type { Filter, StoreReader } from '../../storage/port';
import { RESOURCES, type ResourceRecord } from '../../storage/records';
import type { IncludeSpec } from './parameters';

export interface IncludeLimits {
  /** Rounds of `:iterate` after the first one. */
  maxIterations: number;
  /** Included resources per page, over all rounds. */
  maxIncluded: number;
}

export interface IncludeResult {
  included: ResourceRecord[];
  /** True when `maxIncluded` cut the result short. */
  truncated: boolean;
}

/** The resources `specs` add to `matches`, never repeating a match or each other, ordered by round then key. */
export async function findIncluded(
  store: StoreReader,
  live: Filter,
  matches: readonly ResourceRecord[],
  specs: readonly IncludeSpec[],
  limits: IncludeLimits,
): Promise<IncludeResult> {
  const seen = new Set(matches.map((m) => m._id));
  const included: ResourceRecord[] = [];
  let sources: readonly ResourceRecord[] = matches;
  let active = specs;
  for (let round = 0; round <= limits.maxIterations && sources.length && active.length; round++) {
    const added: ResourceRecord[] = [];
    for (const spec of active) {
      const room = limits.maxIncluded - included.length - added.length;
      if (room <= 0) return { included: [...included, ...added], truncated: true };
      const found = spec.reverse
        ? await referring(store, live, sources, spec, room + seen.size)
        : await referenced(store, live, sources, spec, room + 1);
      for (const record of found) {
        if (seen.has(record._id)) continue;
        if (added.length + included.length >= limits.maxIncluded) return { included: [...included, ...added], truncated: true };
        seen.add(record._id);
        added.push(record);
      }
    }
    included.push(...added);
    sources = added;
    active = specs.filter((s) => s.iterate);
  }
  return { included, truncated: false };
}

/** `_include`: the targets of the sources' references on `spec.param`. */
async function referenced(
  store: StoreReader,
  live: Filter,
  sources: readonly ResourceRecord[],
  spec: IncludeSpec,
  limit: number,
): Promise<ResourceRecord[]> {
  const keys = new Set<string>();
  for (const source of sources) {
    if (spec.source !== '*' && source.type !== spec.source) continue;
    for (const ref of source.idx?.ref ?? []) {
      if (!ref.r || (spec.param !== '*' && ref.p !== spec.param)) continue;
      if (spec.target && !ref.r.startsWith(`${spec.target}/`)) continue;
      keys.add(ref.r);
    }
  }
  if (!keys.size) return [];
  const filter: Filter = { $and: [live, { _id: { $in: [...keys] } }] };
  return (await store.find(RESOURCES, filter, { sort: [['_id', 1]], limit })) as ResourceRecord[];
}

/** `_revinclude`: resources of `spec.source` whose `spec.param` refers to one of the sources. */
async function referring(
  store: StoreReader,
  live: Filter,
  sources: readonly ResourceRecord[],
  spec: IncludeSpec,
  limit: number,
): Promise<ResourceRecord[]> {
  const targets = sources.filter((s) => !spec.target || s.type === spec.target).map((s) => s._id);
  if (!targets.length) return [];
  const entry: Filter = spec.param === '*' ? { r: { $in: targets } } : { p: spec.param, r: { $in: targets } };
  const conditions: Filter[] = [live, { 'idx.ref': { $elemMatch: entry } }];
  if (spec.source !== '*') conditions.push({ type: spec.source });
  return (await store.find(RESOURCES, { $and: conditions }, { sort: [['_id', 1]], limit })) as ResourceRecord[];
}
