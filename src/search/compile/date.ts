/**
 * date parameters and `_lastUpdated` (https://hl7.org/fhir/R4/search.html#date, #prefix). Both the search
 * value and the indexed value are ranges [lo, hi] of UTC instants (hi inclusive, src/search/normalise/date.ts);
 * the prefix decides how the two ranges must relate:
 *   eq  the resource range lies inside the search range      ne  it does not
 *   gt  the resource range reaches beyond the search range    lt  it starts before the search range
 *   ge  it overlaps the search range or anything after it     le  it overlaps the search range or anything before it
 *   sa  it starts after the search range ends                 eb  it ends before the search range starts
 *   ap  it overlaps the search range widened by 10% of its distance from now (at least one day) on each side
 */
import type { Filter } from '../../storage/port';
import { dateRange, MAX_INSTANT, MIN_INSTANT, type DateRange } from '../normalise';
import { splitEscaped, unescapeValue } from '../parse/escape';
import { splitPrefix, type Prefix } from '../parse/prefix';
import { invalidValue } from './errors';
import { anyEntry, or } from './filters';

const DAY_MS = 86_400_000;

/** A date parameter over `idx.date` entries. */
export function compileDate(code: string, value: string, now: string): Filter {
  const alternatives = splitEscaped(value, ',').map((raw) => {
    const { prefix, range } = parseDateValue(code, unescapeValue(raw));
    return dateRangeCondition('lo', 'hi', prefix, range, now);
  });
  return anyEntry('date', code, alternatives);
}

/** `_lastUpdated` on the record's `lastUpdated` instant, a range whose two ends coincide. */
export function compileLastUpdated(value: string, now: string): Filter {
  return or(
    splitEscaped(value, ',').map((raw) => {
      const { prefix, range } = parseDateValue('_lastUpdated', unescapeValue(raw));
      return dateRangeCondition('lastUpdated', 'lastUpdated', prefix, range, now);
    }),
  );
}

export function parseDateValue(parameter: string, text: string): { prefix: Prefix; range: DateRange } {
  const { prefix, rest, unknown } = splitPrefix(text);
  if (unknown !== undefined) throw invalidValue(parameter, 'prefix', unknown);
  const range = dateRange(rest);
  if (!range || rest !== rest.trim()) throw invalidValue(parameter, 'date', text);
  return { prefix, range };
}

/** Condition on a [lo, hi] pair of fields, hi inclusive (the same field twice for a single instant). */
export function dateRangeCondition(lo: string, hi: string, prefix: Prefix, p: DateRange, now: string): Filter {
  const both = (low: Filter, high: Filter): Filter => (lo === hi ? { [lo]: { ...low, ...high } } : { [lo]: low, [hi]: high });
  switch (prefix) {
    case 'eq':
      return both({ $gte: p.lo }, { $lte: p.hi });
    case 'ne':
      return { $or: [{ [lo]: { $lt: p.lo } }, { [hi]: { $gt: p.hi } }] };
    case 'gt':
      return { [hi]: { $gt: p.hi } };
    case 'lt':
      return { [lo]: { $lt: p.lo } };
    case 'ge':
      return { [hi]: { $gte: p.lo } };
    case 'le':
      return { [lo]: { $lte: p.hi } };
    case 'sa':
      return { [lo]: { $gt: p.hi } };
    case 'eb':
      return { [hi]: { $lt: p.lo } };
    case 'ap': {
      const wide = widen(p, now);
      return both({ $lte: wide.hi }, { $gte: wide.lo });
    }
  }
}

/** The search range widened by 10% of its distance from `now` (at least one day) on each side. */
function widen(p: DateRange, now: string): DateRange {
  const lo = Date.parse(p.lo);
  const hi = Date.parse(p.hi);
  const current = Date.parse(now);
  const distance = current < lo ? lo - current : current > hi ? current - hi : 0;
  const margin = Math.max(DAY_MS, Math.round(distance / 10));
  const clamp = (ms: number) => new Date(Math.min(Date.parse(MAX_INSTANT), Math.max(Date.parse(MIN_INSTANT), ms))).toISOString();
  return { lo: clamp(lo - margin), hi: clamp(hi + margin) };
}
