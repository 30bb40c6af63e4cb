/**
 * token parameters (https://hl7.org/fhir/R4/search.html#token): `code`, `system|code`, `|code` (no system),
 * `system|`, and the modifiers :not, :text, :of-type, :in, :not-in, :above, :below.
 */
import { FhirError } from '../../core/errors';
import type { Filter } from '../../storage/port';
import { splitEscaped, unescapeValue } from '../parse/escape';
import { UnsupportedParameter, invalidValue } from './errors';
import { MATCH_NOTHING, anyEntry, noEntry, startsWith } from './filters';
import type { Terminology } from './terminology';
import { foldString } from '../normalise';

export type TokenModifier = 'not' | 'text' | 'of-type' | 'in' | 'not-in' | 'above' | 'below';

/** A promise only for :in and :not-in, which read the ValueSet. */
export function compileToken(code: string, modifier: TokenModifier | undefined, value: string, terminology: Terminology): Filter | Promise<Filter> {
  const name = modifier ? `${code}:${modifier}` : code;
  const raws = splitEscaped(value, ',');
  switch (modifier) {
    case undefined:
      return anyEntry('tok', code, raws.map((raw) => codingCondition(name, raw)));
    case 'not':
      return noEntry('tok', code, raws.map((raw) => codingCondition(name, raw)));
    case 'text':
      return anyEntry('tok', code, raws.map((raw) => ({ t: startsWith(foldString(unescapeValue(raw))) })));
    case 'of-type':
      return anyEntry('tok', code, raws.map((raw) => ofTypeCondition(name, raw)));
    case 'in':
    case 'not-in':
      return valueSetFilter(code, name, modifier, raws, terminology);
    case 'above':
    case 'below':
      return anyEntry('tok', code, raws.map((raw) => subsumptionCondition(name, raw, modifier, terminology)));
  }
}

/** `code`, `system|code`, `|code`, `system|` -> a condition on one token entry. */
function codingCondition(name: string, raw: string): Filter {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length === 1) return { c: parts[0] };
  if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) throw invalidValue(name, 'token', unescapeValue(raw));
  const [system, codeValue] = parts as [string, string];
  const condition: Filter = system === '' ? { s: { $exists: false } } : { s: system };
  if (codeValue !== '') condition['c'] = codeValue;
  return condition;
}

/** `type-system|type-code|value` (https://hl7.org/fhir/R4/search.html#modifiers, :of-type on Identifier). */
function ofTypeCondition(name: string, raw: string): Filter {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw invalidValue(name, 'identifier type (expected type-system|type-code|value)', unescapeValue(raw));
  }
  const [ts, tc, c] = parts as [string, string, string];
  return { ts, tc, c };
}

async function valueSetFilter(code: string, name: string, modifier: 'in' | 'not-in', raws: string[], terminology: Terminology): Promise<Filter> {
  const alternatives = (await Promise.all(raws.map((raw) => valueSetConditions(name, unescapeValue(raw), terminology)))).flat();
  if (modifier === 'in') return alternatives.length ? anyEntry('tok', code, alternatives) : MATCH_NOTHING;
  return alternatives.length ? noEntry('tok', code, alternatives) : {};
}

/** Codings whose system and code are in the ValueSet, and system-less codes that are members of it. */
async function valueSetConditions(name: string, url: string, terminology: Terminology): Promise<Filter[]> {
  const expansion = await terminology.expand(url);
  if (expansion === undefined) {
    throw new FhirError('incorrect', [
      { severity: 'error', code: 'not-found', diagnostics: `ValueSet '${url}' in search parameter '${name}' is not available on this server`, expression: [name] },
    ]);
  }
  const conditions: Filter[] = [...expansion].map(([system, codes]) => ({ s: system, c: { $in: [...codes] } }));
  // Plain `code` elements are indexed without a system; their binding supplies it, so a member code matches.
  const allCodes = [...new Set([...expansion.values()].flatMap((codes) => [...codes]))];
  if (allCodes.length) conditions.push({ s: { $exists: false }, c: { $in: allCodes } });
  return conditions;
}

function subsumptionCondition(name: string, raw: string, direction: 'above' | 'below', terminology: Terminology): Filter {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw invalidValue(name, 'coding (expected system|code)', unescapeValue(raw));
  const [system, codeValue] = parts as [string, string];
  const codes = terminology.subsumption(system, codeValue, direction);
  if (codes === undefined) {
    throw new UnsupportedParameter(name, `Search parameter '${name}': the hierarchy of code system '${system}' is not available on this server`);
  }
  return { s: system, c: { $in: codes } };
}
