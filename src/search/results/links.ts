/**
 * Searchset links (https://hl7.org/fhir/R4/search.html#conformance, https://hl7.org/fhir/R4/http.html#paging):
 * every link repeats the parameters as they took effect, so the self link says what was actually searched and
 * paging links re-run the same search with a `_page` token.
 */
import type { BundleLink } from 'fhir/r4';

export interface SearchTargetPath {
  resourceType?: string;
  compartment?: { type: string; id: string };
}

/** The path below the base URL: `Patient`, `Patient/123/Observation`, `Patient/123/*`, or '' for the system. */
export function targetPath(target: SearchTargetPath): string {
  if (target.compartment) {
    const { type, id } = target.compartment;
    return `${type}/${encodeURIComponent(id)}/${target.resourceType ?? '*'}`;
  }
  return target.resourceType ?? '';
}

/** `name=value&...`, percent-encoded, keeping `:` and `,` readable. */
export function queryString(params: ReadonlyArray<[string, string]>): string {
  return params.map(([name, value]) => `${encodePart(name)}=${encodePart(value)}`).join('&');
}

const encodePart = (text: string): string => encodeURIComponent(text).replace(/%3A/gi, ':').replace(/%2C/gi, ',');

export function searchUrl(baseUrl: string, target: SearchTargetPath, params: ReadonlyArray<[string, string]>): string {
  const path = targetPath(target);
  const query = queryString(params);
  return `${baseUrl}${path ? `/${path}` : ''}${query ? `?${query}` : ''}`;
}

export const link = (relation: string, url: string): BundleLink => ({ relation, url });
