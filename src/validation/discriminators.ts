/**
 * Slicing discriminator paths (https://hl7.org/fhir/R4/profiling.html#discriminator): a restricted FHIRPath of
 * element names, `extension('url')` (the extensions with that url) and `resolve()` (the resource a Reference points
 * to), or `$this`. References resolve to a contained resource (`#id`) or, inside a Bundle, to the entry whose
 * fullUrl (or `Type/id`) they name. A reference that cannot be resolved yields an unresolved target carrying only
 * the type its literal URL names (`Patient/123` → Patient), or nothing when the URL names no type.
 */
type Json = Record<string, unknown>;

export type Segment = { kind: 'name'; name: string; choice: boolean } | { kind: 'extension'; url: string } | { kind: 'resolve' };

/** Finds the resource a reference points to, or undefined. */
export type Resolver = (reference: string) => Json | undefined;

/** Marks a resolve() result that stands for a resource the server could not find: only its type is known. */
export const UNRESOLVED = Symbol('unresolved');

const parsed = new Map<string, Segment[]>();

export function parseDiscriminatorPath(path: string): Segment[] {
  let segments = parsed.get(path);
  if (segments) return segments;
  segments = [];
  const token = /extension\((['"])(.*?)\1\)|resolve\(\)|[^.]+/g;
  for (let match = token.exec(path); match; match = token.exec(path)) {
    if (match[0] === 'resolve()') segments.push({ kind: 'resolve' });
    else if (match[2] !== undefined) segments.push({ kind: 'extension', url: match[2] });
    else if (match[0] !== '$this') segments.push({ kind: 'name', name: match[0].replace(/\[x\]$/, ''), choice: match[0].endsWith('[x]') });
  }
  parsed.set(path, segments);
  return segments;
}

/** The values at a discriminator path, arrays flattened; a name matches its choice variants (`value` → `valueCode`). */
export function discriminatorValues(value: unknown, segments: Segment[], resolve: Resolver): unknown[] {
  let items: unknown[] = [value];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const item of items) {
      if (typeof item !== 'object' || item === null) continue;
      const object = item as Json;
      if (segment.kind === 'resolve') {
        const target = typeof object.reference === 'string' ? resolveReference(object.reference, resolve) : undefined;
        if (target) next.push(target);
        continue;
      }
      const key = segment.kind === 'extension' ? 'extension' : segment.name;
      const exact = object[key];
      const found = exact !== undefined || segment.kind === 'extension' ? [exact] : Object.keys(object).filter((k) => k.startsWith(key) && /^[A-Z]/.test(k.slice(key.length))).map((k) => object[k]);
      for (const v of found) {
        for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) {
          if (segment.kind === 'extension' && (typeof one !== 'object' || one === null || (one as Json).url !== segment.url)) continue;
          next.push(one);
        }
      }
    }
    items = next;
  }
  return items;
}

function resolveReference(reference: string, resolve: Resolver): Json | undefined {
  const found = resolve(reference);
  if (found) return found;
  const type = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
  return type ? { resourceType: type, [UNRESOLVED]: true } : undefined;
}

/**
 * References of `root` resolved against its contained resources and, for a Bundle, its entries; others are asked
 * of `outer` (the resolver of the resource `root` is nested in). The lookup tables are built on first use.
 */
export function resolverFor(root: Json, outer?: Resolver): Resolver {
  let contained: Map<string, Json> | undefined;
  let entries: Map<string, Json> | undefined;
  return (reference) => {
    if (reference.startsWith('#')) {
      contained ??= new Map((Array.isArray(root.contained) ? (root.contained as Json[]) : []).filter((c) => typeof c?.id === 'string').map((c) => [`#${c.id as string}`, c]));
      return contained.get(reference) ?? outer?.(reference);
    }
    if (root.resourceType !== 'Bundle') return outer?.(reference);
    entries ??= bundleEntries(root);
    const tail = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
    return entries.get(reference) ?? (tail ? entries.get(tail) : undefined) ?? outer?.(reference);
  };
}

function bundleEntries(bundle: Json): Map<string, Json> {
  const byReference = new Map<string, Json>();
  const add = (key: unknown, resource: Json): void => {
    if (typeof key === 'string' && !byReference.has(key)) byReference.set(key, resource);
  };
  for (const entry of Array.isArray(bundle.entry) ? (bundle.entry as Json[]) : []) {
    const resource = entry?.resource as Json | undefined;
    if (typeof resource !== 'object' || resource === null) continue;
    add(entry.fullUrl, resource);
    if (typeof resource.resourceType === 'string' && typeof resource.id === 'string') add(`${resource.resourceType}/${resource.id}`, resource);
  }
  return byReference;
}
