/**
 * quantity parameters (https://hl7.org/fhir/R4/search.html#quantity): `[prefix]number`, `[prefix]number|system|code`
 * and `[prefix]number||code` (code or unit text, any system). With the UCUM system, the search value is converted
 * to UCUM base units and compared with the canonical index entries (`cn: true`), so 5 mg matches 0.005 g.
 * Numeric semantics are those of number parameters (./number.ts).
 */
import type { Filter } from '../../storage/port';
import { toCanonicalUcum, UCUM_SYSTEM, type NumberRange } from '../normalise';
import { splitEscaped, unescapeValue } from '../parse/escape';
import type { Prefix } from '../parse/prefix';
import { invalidValue } from './errors';
import { anyEntry } from './filters';
import { numberCondition, parseNumberValue } from './number';

export function compileQuantity(code: string, value: string): Filter {
  return anyEntry('qty', code, splitEscaped(value, ',').map((raw) => quantityCondition(code, raw)));
}

/** Condition on one quantity entry for one (escaped) search value. */
export function quantityCondition(parameter: string, raw: string): Filter {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length !== 1 && parts.length !== 3) throw invalidValue(parameter, 'quantity', unescapeValue(raw));
  const { prefix, number } = parseNumberValue(parameter, parts[0]!);
  const original = { cn: { $ne: true }, ...numberCondition(prefix, number) };
  if (parts.length === 1) return original;
  const [, system, unit] = parts as [string, string, string];
  if (system === '' && unit === '') return original;
  if (system === '') return { ...original, $and: [{ $or: [{ c: unit }, { u: unit }] }] };
  const exact = { ...original, s: system, ...(unit === '' ? {} : { c: unit }) };
  const canonical = system === UCUM_SYSTEM && unit !== '' ? canonicalCondition(prefix, number, unit) : undefined;
  return canonical ? { $or: [canonical, exact] } : exact;
}

/** The same comparison in UCUM base units on the canonical entries; undefined when `unit` is not UCUM. */
function canonicalCondition(prefix: Prefix, number: NumberRange, unit: string): Filter | undefined {
  const v = toCanonicalUcum(number.v, unit);
  const lo = toCanonicalUcum(number.lo, unit);
  const hi = toCanonicalUcum(number.hi, unit);
  if (!v || !lo || !hi) return undefined;
  return { cn: true, c: v.code, ...numberCondition(prefix, { v: v.value, lo: lo.value, hi: hi.value }) };
}
