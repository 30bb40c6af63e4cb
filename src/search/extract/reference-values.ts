/** reference parameter values (https://hl7.org/fhir/R4/search.html#reference): Reference, canonical and uri elements. */
import type { ReferenceEntry } from '../index-fields';
import { referenceKey } from '../normalise/reference';
import { asObject, asString, type TypedValue } from './typed-value';

/** `baseUrl` must already be normalised (normaliseBaseUrl). Contained references (`#id`) give no key. */
export function referenceEntries(p: string, tv: TypedValue, baseUrl: string, out: ReferenceEntry[]): void {
  if (tv.type !== 'Reference') {
    const text = asString(tv.value);
    const key = text === undefined ? undefined : referenceKey(text, baseUrl);
    if (key) out.push({ p, ...key });
    return;
  }
  const ref = asObject(tv.value);
  if (!ref) return;
  const entry: ReferenceEntry = { p };
  const text = asString(ref.reference);
  const key = text === undefined ? undefined : referenceKey(text, baseUrl);
  if (key) Object.assign(entry, key);
  const type = asString(ref.type);
  if (entry.ty === undefined && type !== undefined && (key || text === undefined)) entry.ty = type;
  const identifier = asObject(ref.identifier);
  if (identifier) {
    const is = asString(identifier.system);
    const iv = asString(identifier.value);
    if (is !== undefined) entry.is = is;
    if (iv !== undefined) entry.iv = iv;
  }
  if (entry.r !== undefined || entry.u !== undefined || entry.iv !== undefined) out.push(entry);
}
