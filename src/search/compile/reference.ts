/**
 * reference parameters (https://hl7.org/fhir/R4/search.html#reference): `Type/id`, a bare `id` (any allowed
 * target type), an absolute URL (this server's base -> the local key `r`, otherwise the URL `u`), a canonical
 * `url|version`, the `:Type` modifier and `:identifier` (`system|value` on the logical identifier).
 * Chained parameters are resolved by the caller into the keys of the matching targets.
 */
import type { Filter } from '../../storage/port';
import { splitEscaped, unescapeValue } from '../parse/escape';
import { invalidValue } from './errors';
import { anyEntry, escapeRegex } from './filters';
import { referenceKey } from '../normalise';

export interface ReferenceContext {
  /** Public base URL, passed through normaliseBaseUrl (no trailing slash). */
  baseUrl: string;
  /** The parameter's allowed target types (empty = any type). */
  targets: string[];
}

const RESOURCE_TYPE = /^[A-Z][A-Za-z]*$/;

/** Plain and `:Type` reference values. `typeModifier` is the resource type named by `:Type`, if any. */
export function compileReference(code: string, typeModifier: string | undefined, value: string, ctx: ReferenceContext): Filter {
  const name = typeModifier ? `${code}:${typeModifier}` : code;
  const alternatives = splitEscaped(value, ',').map((raw) => referenceCondition(name, raw, typeModifier, ctx));
  return anyEntry('ref', code, alternatives);
}

/** `:identifier` (https://hl7.org/fhir/R4/search.html#modifiers): `system|value`, `value`, `|value`. */
export function compileReferenceIdentifier(code: string, value: string): Filter {
  const name = `${code}:identifier`;
  const alternatives = splitEscaped(value, ',').map((raw) => {
    const parts = splitEscaped(raw, '|').map(unescapeValue);
    if (parts.length === 1) return { iv: parts[0] };
    if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) throw invalidValue(name, 'identifier', unescapeValue(raw));
    const [system, identifier] = parts as [string, string];
    const condition: Filter = system === '' ? { is: { $exists: false } } : { is: system };
    if (identifier !== '') condition['iv'] = identifier;
    return condition;
  });
  return anyEntry('ref', code, alternatives);
}

function referenceCondition(name: string, raw: string, typeModifier: string | undefined, ctx: ReferenceContext): Filter {
  const value = unescapeValue(raw);
  if (value === '' || value.startsWith('#')) throw invalidValue(name, 'reference', value);
  if (!value.includes('/') && !value.includes(':')) return bareIdCondition(value, typeModifier ? [typeModifier] : ctx.targets);
  const key = referenceKey(value, ctx.baseUrl);
  if (key?.r !== undefined) {
    if (typeModifier && key.ty !== typeModifier) throw invalidValue(name, `reference (not a ${typeModifier})`, value);
    return { r: key.r };
  }
  if (key?.u === undefined || !isAbsolute(key.u)) throw invalidValue(name, 'reference', value);
  return key.uv === undefined ? { u: key.u } : { u: key.u, uv: key.uv };
}

/** A bare logical id matches that id on any of the allowed target types. */
function bareIdCondition(id: string, types: string[]): Filter {
  if (types.length === 0) return { r: { $regex: `^[A-Za-z]+/${escapeRegex(id)}$` } };
  return types.length === 1 ? { r: `${types[0]}/${id}` } : { r: { $in: types.map((t) => `${t}/${id}`) } };
}

function isAbsolute(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value);
}

export const isResourceTypeName = (text: string): boolean => RESOURCE_TYPE.test(text);
