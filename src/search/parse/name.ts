/**
 * Parses a search parameter name from the query string into its parts
 * (https://hl7.org/fhir/R4/search.html#modifiers, #chaining, #has):
 * `code`, `code:modifier`, `code[:Type].chained-name` and `_has:Type:reference:inner-name`.
 * Anything else (brackets, `$`, empty parts) is not a parameter name this server knows.
 */

export type ParsedName =
  | { kind: 'param'; code: string; modifier?: string; chain?: string }
  | { kind: 'has'; type: string; reference: string; inner: string };

const CODE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const MODIFIER = /^[A-Za-z][A-Za-z0-9-]*$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]*$/;

/** Returns undefined when the name cannot be a search parameter (the caller reports it as unknown). */
export function parseName(name: string): ParsedName | undefined {
  if (name.startsWith('_has:')) return parseHas(name);
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const chain = dot < 0 ? undefined : name.slice(dot + 1);
  if (chain === '') return undefined;
  const colon = head.indexOf(':');
  const code = colon < 0 ? head : head.slice(0, colon);
  const modifier = colon < 0 ? undefined : head.slice(colon + 1);
  if (!CODE.test(code)) return undefined;
  if (modifier !== undefined && !MODIFIER.test(modifier)) return undefined;
  return { kind: 'param', code, ...(modifier !== undefined ? { modifier } : {}), ...(chain !== undefined ? { chain } : {}) };
}

function parseHas(name: string): ParsedName | undefined {
  const parts = name.split(':');
  const type = parts[1];
  const reference = parts[2];
  const inner = parts.slice(3).join(':');
  if (type === undefined || reference === undefined || inner === '') return undefined;
  if (!RESOURCE_TYPE.test(type) || !CODE.test(reference)) return undefined;
  return { kind: 'has', type, reference, inner };
}
