/**
 * composite parameters (https://hl7.org/fhir/R4/search.html#composite): `code-value-quantity=http://loinc.org|8480-6$lt60`.
 * Components are separated by `$`; each is read with its own parameter type and compared with position i of one
 * composite entry (`k[i]` key, `lo[i]`/`hi[i]` range; layout in docs/search-index.md), so all components hold for
 * the same element. Number and quantity components carry only ranges, so their prefixes use range semantics.
 */
import type { Filter } from '../../storage/port';
import { foldString, referenceKey, toCanonicalUcum, UCUM_SYSTEM } from '../normalise';
import { splitEscaped, unescapeValue } from '../parse/escape';
import type { CompositeComponentDef } from '../registry';
import { dateRangeCondition, parseDateValue } from './date';
import { UnsupportedParameter, invalidValue } from './errors';
import { anyEntry, escapeRegex, startsWith } from './filters';
import { numberRangeCondition, parseNumberValue } from './number';

export interface CompositeContext {
  baseUrl: string;
  now: string;
}

export function compileComposite(code: string, components: CompositeComponentDef[], value: string, ctx: CompositeContext): Filter {
  const alternatives = splitEscaped(value, ',').map((raw) => {
    const parts = splitEscaped(raw, '$');
    if (parts.length !== components.length) {
      throw invalidValue(code, `composite value (expected ${components.length} components separated by $)`, unescapeValue(raw));
    }
    const conditions = parts.map((part, i) => componentCondition(code, components[i]!, i, part, ctx));
    return { $and: conditions };
  });
  return anyEntry('comp', code, alternatives);
}

function componentCondition(code: string, component: CompositeComponentDef, i: number, raw: string, ctx: CompositeContext): Filter {
  const key = `k.${i}`;
  const text = unescapeValue(raw);
  switch (component.type) {
    case 'token':
      return tokenKey(code, key, raw);
    case 'string':
      return { [key]: startsWith(foldString(text)) };
    case 'uri':
      return { [key]: text };
    case 'reference': {
      const ref = referenceKey(text, ctx.baseUrl);
      const target = ref?.r ?? ref?.u;
      if (target === undefined) throw invalidValue(code, 'reference', text);
      return { [key]: target };
    }
    case 'date': {
      const { prefix, range } = parseDateValue(code, text);
      return dateRangeCondition(`lo.${i}`, `hi.${i}`, prefix, range, ctx.now);
    }
    case 'number': {
      const { prefix, number } = parseNumberValue(code, text);
      return numberRangeCondition(`lo.${i}`, `hi.${i}`, prefix, number);
    }
    case 'quantity':
      return quantityComponent(code, i, raw);
    default:
      throw new UnsupportedParameter(code, `Search parameter '${code}': component ${i + 1} has no supported type`);
  }
}

/** `system|code`, `|code` and `code` are stored verbatim as keys; `system|` matches any code of the system. */
function tokenKey(code: string, key: string, raw: string): Filter {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length === 1) return { [key]: parts[0] };
  if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) throw invalidValue(code, 'token', unescapeValue(raw));
  const [system, value] = parts as [string, string];
  if (value === '') return { [key]: { $regex: `^${escapeRegex(system)}\\|` } };
  return { [key]: `${system}|${value}` };
}

/** `[prefix]number[|system|code]`: the number against lo/hi, the unit against the key (UCUM also in base units). */
function quantityComponent(code: string, i: number, raw: string): Filter {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length !== 1 && parts.length !== 3) throw invalidValue(code, 'quantity', unescapeValue(raw));
  const { prefix, number } = parseNumberValue(code, parts[0]!);
  const range = numberRangeCondition(`lo.${i}`, `hi.${i}`, prefix, number);
  // Without a unit, compare only entries in the quantity's own unit: canonical keys start with the UCUM system.
  if (parts.length === 1 || (parts[1] === '' && parts[2] === '')) return { [`k.${i}`]: { $not: { $regex: `^${escapeRegex(UCUM_SYSTEM)}\\|` } }, ...range };
  const [, system, unit] = parts as [string, string, string];
  const key = `k.${i}`;
  const exact = { [key]: system === '' ? unit : `${system}|${unit}`, ...range };
  if (system !== UCUM_SYSTEM) return exact;
  const v = toCanonicalUcum(number.v, unit);
  const lo = toCanonicalUcum(number.lo, unit);
  const hi = toCanonicalUcum(number.hi, unit);
  if (!v || !lo || !hi) return exact;
  const canonical = { [key]: `${UCUM_SYSTEM}|${v.code}`, ...numberRangeCondition(`lo.${i}`, `hi.${i}`, prefix, { v: v.value, lo: lo.value, hi: hi.value }) };
  return { $or: [canonical, exact] };
}
