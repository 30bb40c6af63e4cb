/** token parameter values (https://hl7.org/fhir/R4/search.html#token). */
import type { TokenEntry } from '../index-fields';
import { foldString } from '../normalise/string';
import { asArray, asObject, asString, type Json, type TypedValue } from './typed-value';

function codingEntry(p: string, coding: Json): TokenEntry | undefined {
  const s = asString(coding.system);
  const c = asString(coding.code);
  const display = asString(coding.display);
  if (s === undefined && c === undefined && display === undefined) return undefined;
  const entry: TokenEntry = { p };
  if (s !== undefined) entry.s = s;
  if (c !== undefined) entry.c = c;
  if (display !== undefined) entry.t = foldString(display);
  return entry;
}

/**
 * A CodeableConcept's codings, and its text as an entry of its own unless a coding's display already says it
 * (`:text` matches either, https://hl7.org/fhir/R4/search.html#modifiers; most concepts repeat the display).
 */
function pushCodeableConcept(p: string, concept: Json, out: TokenEntry[]): void {
  const from = out.length;
  for (const coding of asArray(concept.coding)) {
    const obj = asObject(coding);
    const entry = obj && codingEntry(p, obj);
    if (entry) out.push(entry);
  }
  const text = asString(concept.text);
  if (text === undefined) return;
  const t = foldString(text);
  for (let i = from; i < out.length; i++) if (out[i]!.t === t) return;
  out.push({ p, t });
}

function pushIdentifier(p: string, identifier: Json, out: TokenEntry[]): void {
  const base: TokenEntry = { p };
  const s = asString(identifier.system);
  const c = asString(identifier.value);
  if (s !== undefined) base.s = s;
  if (c !== undefined) base.c = c;
  const type = asObject(identifier.type);
  const typeText = type && asString(type.text);
  if (typeText !== undefined) base.t = foldString(typeText);
  const typeCodings = type ? asArray(type.coding).map(asObject).filter((x): x is Json => x !== undefined) : [];
  if (s === undefined && c === undefined && typeText === undefined && typeCodings.length === 0) return;
  if (typeCodings.length === 0) {
    out.push(base);
    return;
  }
  for (const coding of typeCodings) {
    const entry: TokenEntry = { ...base };
    const ts = asString(coding.system);
    const tc = asString(coding.code);
    if (ts !== undefined) entry.ts = ts;
    if (tc !== undefined) entry.tc = tc;
    out.push(entry);
  }
}

/**
 * Coding, CodeableConcept, Identifier, ContactPoint (value only: R4 gives it no system part), and primitive
 * code/id/string/uri/boolean values (`{c}`); codes keep their case.
 */
export function tokenEntries(p: string, tv: TypedValue, out: TokenEntry[]): void {
  const obj = asObject(tv.value);
  switch (tv.type) {
    case 'Coding': {
      const entry = obj && codingEntry(p, obj);
      if (entry) out.push(entry);
      return;
    }
    case 'CodeableConcept':
      if (obj) pushCodeableConcept(p, obj, out);
      return;
    case 'Identifier':
      if (obj) pushIdentifier(p, obj, out);
      return;
    case 'ContactPoint': {
      const c = obj && asString(obj.value);
      if (c !== undefined) out.push({ p, c });
      return;
    }
    default:
      if (typeof tv.value === 'boolean') out.push({ p, c: tv.value ? 'true' : 'false' });
      else if (typeof tv.value === 'string' && tv.value.length > 0) out.push({ p, c: tv.value });
      else if (typeof tv.value === 'number') out.push({ p, c: String(tv.value) });
  }
}
