/**
 * string parameters (https://hl7.org/fhir/R4/search.html#string): by default a case- and accent-insensitive
 * starts-with match on the folded value `v`; `:exact` compares the original text `x`; `:contains` matches the
 * folded value anywhere (the search text is escaped, never interpreted as a regular expression).
 */
import type { Filter } from '../../storage/port';
import { splitEscaped, unescapeValue } from '../parse/escape';
import { anyEntry, escapeRegex, startsWith } from './filters';
import { foldString } from '../normalise';

export function compileString(code: string, modifier: 'exact' | 'contains' | undefined, value: string): Filter {
  const alternatives = splitEscaped(value, ',').map((raw) => {
    const text = unescapeValue(raw);
    if (modifier === 'exact') return { x: text };
    const folded = foldString(text);
    if (modifier === 'contains') return { v: { $regex: escapeRegex(folded) } };
    return { v: startsWith(folded) };
  });
  return anyEntry('str', code, alternatives);
}
