/**
 * Every extension in a resource (https://hl7.org/fhir/R4/extensibility.html): `extension` and `modifierExtension`
 * at any depth, on primitives (`_birthDate.extension`) and inside contained and Bundle resources, with its FHIRPath
 * location and the element it extends (for the definition's `context`, with a nested resource's own type as root).
 * Nested extensions of a complex extension (relative `url`s such as `lat`) belong to their parent's definition.
 */
type Json = Record<string, unknown>;

/** What to do with an extension whose definition the server does not hold (UNKNOWN_EXTENSIONS). */
export type UnknownExtensions = 'warn' | 'error' | 'ignore';

export interface FoundExtension {
  extension: Json;
  /** FHIRPath location with indices: `Patient.contact[0].extension[1]`. */
  at: string;
  /** The element extended, without indices, rooted at its resource's type: `Patient.contact`. */
  where: string;
  modifier: boolean;
}

export function forEachExtension(resource: Json, visit: (found: FoundExtension) => void): void {
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  walk(resource, { keys: [type], indices: [-1] }, [type], visit);
}

/**
 * Locations are stacks of keys and array indices (-1: not in an array), turned into strings only when an
 * extension is found: most values have none, and building a location for each of them would cost more than the walk.
 */
interface Location {
  keys: string[];
  indices: number[];
}

const locationOf = ({ keys, indices }: Location): string => keys.map((k, i) => (indices[i] >= 0 ? `${k}[${indices[i]}]` : k)).join('.');

function walk(value: Json, at: Location, where: string[], visit: (found: FoundExtension) => void): void {
  for (const raw in value) {
    const child = value[raw];
    if (child === null || typeof child !== 'object') continue;
    const key = raw.charCodeAt(0) === 95 ? raw.slice(1) : raw;
    const extension = key === 'extension' || key === 'modifierExtension';
    if (Array.isArray(child)) {
      for (let i = 0; i < child.length; i++) {
        const item = child[i] as Json;
        if (item !== null && typeof item === 'object') visitItem(item, key, i, extension, at, where, visit);
      }
    } else visitItem(child as Json, key, -1, extension, at, where, visit);
  }
}

function visitItem(item: Json, key: string, index: number, extension: boolean, at: Location, where: string[], visit: (found: FoundExtension) => void): void {
  at.keys.push(key);
  at.indices.push(index);
  if (extension && typeof item.url === 'string' && item.url.includes(':')) visit({ extension: item, at: locationOf(at), where: where.join('.'), modifier: key === 'modifierExtension' });
  if (typeof item.resourceType === 'string') walk(item, at, [item.resourceType], visit);
  else {
    where.push(extension ? 'extension' : key);
    walk(item, at, where, visit);
    where.pop();
  }
  at.keys.pop();
  at.indices.pop();
}
