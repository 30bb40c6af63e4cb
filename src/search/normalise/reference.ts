/**
 * Reference normalisation (https://hl7.org/fhir/R4/search.html#reference, https://hl7.org/fhir/R4/references.html):
 * a reference into this server becomes the local key `Type/id` whatever its spelling (relative, absolute with the
 * server's base URL, with or without `/_history/n`); anything else is kept as an absolute URL, with a canonical's
 * `|version` split off.
 */

export interface ReferenceKey {
  /** `Type/id` when the reference points into this server. */
  r?: string;
  /** The target resource type when the reference spells it (local or remote RESTful URL). */
  ty?: string;
  /** The absolute URL or canonical (without `|version`) when the reference points elsewhere. */
  u?: string;
  /** The canonical's version (after `|`). */
  uv?: string;
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const RESTFUL_TAIL = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The server's base URL in the form references are compared with (no trailing slash). */
export function normaliseBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/**
 * Normalises one reference string against `baseUrl` (already passed through normaliseBaseUrl).
 * Returns undefined for contained references (`#id`) and empty strings, which are never indexed.
 */
export function referenceKey(reference: string, baseUrl: string): ReferenceKey | undefined {
  const ref = reference.trim();
  if (!ref || ref.startsWith('#')) return undefined;
  const relative = RELATIVE.exec(ref);
  if (relative) return { r: `${relative[1]}/${relative[2]}`, ty: relative[1] };
  if (baseUrl && ref.startsWith(`${baseUrl}/`)) {
    const local = RELATIVE.exec(ref.slice(baseUrl.length + 1));
    if (local) return { r: `${local[1]}/${local[2]}`, ty: local[1] };
  }
  const bar = ref.lastIndexOf('|');
  const url = bar >= 0 ? ref.slice(0, bar) : ref;
  const key: ReferenceKey = { u: url };
  if (bar >= 0 && bar < ref.length - 1) key.uv = ref.slice(bar + 1);
  const tail = RESTFUL_TAIL.exec(url);
  if (tail) key.ty = tail[1];
  return key;
}
