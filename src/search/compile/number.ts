/**
 * number parameters (https://hl7.org/fhir/R4/search.html#number, #prefix). Without a prefix (or with eq/ne) the
 * search value stands for its implicit precision range (`100` = [99.5, 100.5)); gt/lt/ge/le compare with the
 * exact value; sa/eb compare the ranges (the resource's starts after / ends before the search range); ap accepts
 * values within 10% of the search value (or within its precision range, whichever is wider).
 */
import type { Filter } from '../../storage/port';
import { numberRange, type NumberRange } from '../normalise';
import { splitEscaped, unescapeValue } from '../parse/escape';
import { splitPrefix, type Prefix } from '../parse/prefix';
import { invalidValue } from './errors';
import { anyEntry } from './filters';

export function compileNumber(code: string, value: string): Filter {
  const alternatives = splitEscaped(value, ',').map((raw) => {
    const { prefix, number } = parseNumberValue(code, unescapeValue(raw));
    return numberCondition(prefix, number);
  });
  return anyEntry('num', code, alternatives);
}

export function parseNumberValue(parameter: string, text: string): { prefix: Prefix; number: NumberRange } {
  const { prefix, rest, unknown } = splitPrefix(text);
  if (unknown !== undefined) throw invalidValue(parameter, 'prefix', unknown);
  const number = rest === rest.trim() ? numberRange(rest) : undefined;
  if (!number) throw invalidValue(parameter, 'number', text);
  return { prefix, number };
}

/** Condition on an entry's `v` (value) and `lo`/`hi` (its precision range, hi exclusive). */
export function numberCondition(prefix: Prefix, p: NumberRange): Filter {
  switch (prefix) {
    case 'eq':
      return { v: { $gte: p.lo, $lt: p.hi } };
    case 'ne':
      return { $or: [{ v: { $lt: p.lo } }, { v: { $gte: p.hi } }] };
    case 'gt':
      return { v: { $gt: p.v } };
    case 'lt':
      return { v: { $lt: p.v } };
    case 'ge':
      return { v: { $gte: p.v } };
    case 'le':
      return { v: { $lte: p.v } };
    case 'sa':
      return { lo: { $gte: p.hi } };
    case 'eb':
      return { hi: { $lte: p.lo } };
    case 'ap': {
      const margin = Math.abs(p.v) / 10;
      return { v: { $gte: Math.min(p.lo, p.v - margin), $lte: Math.max(p.hi, p.v + margin) } };
    }
  }
}

/**
 * Range semantics (https://hl7.org/fhir/R4/search.html#prefix) for entries that carry only a range [lo, hi)
 * (composite components, which store no exact value): eq = overlaps the search range (so 72 kg, stored as
 * [71.5, 72.5) kg, equals 72000 g), ne = does not; gt = reaches above it, ge = reaches into or above it, etc.
 */
export function numberRangeCondition(lo: string, hi: string, prefix: Prefix, p: NumberRange): Filter {
  switch (prefix) {
    case 'eq':
      return { [lo]: { $lt: p.hi }, [hi]: { $gt: p.lo } };
    case 'ne':
      return { $or: [{ [lo]: { $gte: p.hi } }, { [hi]: { $lte: p.lo } }] };
    case 'gt':
      return { [hi]: { $gt: p.hi } };
    case 'lt':
      return { [lo]: { $lt: p.lo } };
    case 'ge':
      return { [hi]: { $gt: p.lo } };
    case 'le':
      return { [lo]: { $lt: p.hi } };
    case 'sa':
      return { [lo]: { $gte: p.hi } };
    case 'eb':
      return { [hi]: { $lte: p.lo } };
    case 'ap': {
      const margin = Math.abs(p.v) / 10;
      return { [lo]: { $lt: Math.max(p.hi, p.v + margin) }, [hi]: { $gt: Math.min(p.lo, p.v - margin) } };
    }
  }
}
