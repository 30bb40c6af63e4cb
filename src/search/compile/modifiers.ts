/**
 * Which modifiers FHIR R4 defines per parameter type (https://hl7.org/fhir/R4/search.html#modifiers).
 * A modifier outside this table is a malformed request; one inside it that a compiler cannot evaluate is
 * reported as unsupported by that compiler.
 */
import type { SearchParamType } from '../registry';

const DEFINED: Record<SearchParamType, ReadonlySet<string>> = {
  string: new Set(['missing', 'exact', 'contains']),
  token: new Set(['missing', 'text', 'not', 'above', 'below', 'in', 'not-in', 'of-type']),
  reference: new Set(['missing', 'identifier', 'above', 'below']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  uri: new Set(['missing', 'above', 'below']),
  composite: new Set(['missing']),
  special: new Set(['missing']),
};

/** True when `modifier` is defined for `type` (reference parameters also take a resource type name, checked by the caller). */
export function isDefinedModifier(type: SearchParamType, modifier: string): boolean {
  return DEFINED[type].has(modifier);
}
