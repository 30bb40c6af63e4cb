/**
 * Per-parameter sort keys for `_sort` (https://hl7.org/fhir/R4/search.html#sort): the smallest normalised value
 * of the parameter's entries (string `v`, token `c`, date `lo`, number/quantity `v`, reference `r` ?? `u`, uri `v`).
 */
import type { SearchParamType } from '../registry/types';

type Entry = Record<string, unknown>;

function keyOf(type: SearchParamType, entry: Entry): string | number | undefined {
  switch (type) {
    case 'string':
    case 'uri':
      return entry.v as string;
    case 'token':
      return entry.c as string | undefined;
    case 'date':
      return entry.lo as string;
    case 'number':
      return entry.v as number;
    case 'quantity':
      return entry.cn ? undefined : (entry.v as number);
    case 'reference':
      return (entry.r ?? entry.u) as string | undefined;
    default:
      return undefined;
  }
}

/** The smallest key among `entries[from..]`, or undefined when none of them has one (composites never do). */
export function sortKeyOf(type: SearchParamType, entries: readonly object[], from: number): string | number | undefined {
  let best: string | number | undefined;
  for (let i = from; i < entries.length; i++) {
    const key = keyOf(type, entries[i] as Entry);
    if (key !== undefined && (best === undefined || key < best)) best = key;
  }
  return best;
}
