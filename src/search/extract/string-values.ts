/** string parameter values (https://hl7.org/fhir/R4/search.html#string): strings, HumanName and Address parts. */
import type { StringEntry, UriEntry } from '../index-fields';
import { foldString } from '../normalise/string';
import { asArray, asObject, asString, type TypedValue } from './typed-value';

const HUMAN_NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

function push(out: StringEntry[], p: string, text: unknown): void {
  const x = asString(text);
  if (x === undefined) return;
  const v = foldString(x);
  if (v) out.push({ p, v, x });
}

function pushParts(out: StringEntry[], p: string, value: unknown, parts: string[]): void {
  const obj = asObject(value);
  if (!obj) return;
  for (const part of parts) for (const text of asArray(obj[part])) push(out, p, text);
}

export function stringEntries(p: string, tv: TypedValue, out: StringEntry[]): void {
  switch (tv.type) {
    case 'HumanName':
      return pushParts(out, p, tv.value, HUMAN_NAME_PARTS);
    case 'Address':
      return pushParts(out, p, tv.value, ADDRESS_PARTS);
    default:
      if (typeof tv.value === 'string') push(out, p, tv.value);
  }
}

/** uri parameter values (https://hl7.org/fhir/R4/search.html#uri): kept as written. */
export function uriEntries(p: string, tv: TypedValue, out: UriEntry[]): void {
  const v = asString(tv.value);
  if (v !== undefined) out.push({ p, v });
}
