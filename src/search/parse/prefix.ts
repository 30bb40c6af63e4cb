/** Comparison prefixes of ordered search values (https://hl7.org/fhir/R4/search.html#prefix). */

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

const PREFIXES: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/**
 * Splits a leading prefix off a number/date/quantity value. Values starting with two letters that are not a
 * known prefix are returned with `unknown` set, so the caller can name the parameter in its error.
 */
export function splitPrefix(value: string): { prefix: Prefix; rest: string; unknown?: string } {
  const head = value.slice(0, 2);
  if (/^[a-z]{2}$/.test(head)) {
    if (PREFIXES.has(head)) return { prefix: head as Prefix, rest: value.slice(2) };
    return { prefix: 'eq', rest: value, unknown: head };
  }
  return { prefix: 'eq', rest: value };
}
