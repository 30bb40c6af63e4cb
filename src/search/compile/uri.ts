/**
 * uri parameters (https://hl7.org/fhir/R4/search.html#uri): exact match by default; `:below` matches URIs that
 * start with the value; `:above` matches URIs of which the value is a descendant (the value itself or one of its
 * `/`-separated parent paths).
 */
import type { Filter } from '../../storage/port';
import { splitEscaped, unescapeValue } from '../parse/escape';
import { anyEntry, startsWith } from './filters';

export function compileUri(code: string, modifier: 'above' | 'below' | undefined, value: string): Filter {
  const alternatives = splitEscaped(value, ',').map((raw) => {
    const uri = unescapeValue(raw);
    if (modifier === 'below') return { v: startsWith(uri) };
    if (modifier === 'above') return { v: { $in: parentPaths(uri) } };
    return { v: uri };
  });
  return anyEntry('uri', code, alternatives);
}

/** `http://a.org/fhir/ValueSet/x` -> itself, `http://a.org/fhir/ValueSet`, `http://a.org/fhir`, `http://a.org`. */
export function parentPaths(uri: string): string[] {
  const authorityEnd = uri.indexOf('://') >= 0 ? uri.indexOf('/', uri.indexOf('://') + 3) : -1;
  if (authorityEnd < 0) return [uri];
  const paths = [uri];
  let current = uri.replace(/\/+$/, '');
  if (current !== uri) paths.push(current);
  while (current.length > authorityEnd) {
    current = current.slice(0, current.lastIndexOf('/'));
    paths.push(current);
  }
  return paths;
}
