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

/**
 * The extensions met by a walk that already visits every element of a structurally valid resource (the base
 * invariants, invariants.ts), found as forEachExtension would find them (same order, locations and contexts), so
 * the profile registry need not walk the resource a second time. The walk's location is a stack of JSON keys
 * (`_birthDate` as written) and array indices; each resource it enters is rooted where its location begins.
 */
export class ExtensionCollector {
  readonly found: FoundExtension[] = [];
  private readonly roots: Array<{ type: string; depth: number }> = [];

  /** `skip`: extensions (by canonical url) the reader of `found` passes over, left out before their locations are built. */
  constructor(private readonly skip: (url: string) => boolean = () => false) {}

  /** A resource (the root, or a contained/Bundle/Parameters one) whose elements follow `location[depth]`. */
  enterResource(type: string, depth: number): void {
    this.roots.push({ type, depth });
  }

  leaveResource(): void {
    this.roots.pop();
  }

  /** An extension (or modifier extension) object; `location` ends with its key and, in an array, its index. */
  add(extension: Json, location: ReadonlyArray<string | number>, modifier: boolean): void {
    if (typeof extension.url !== 'string' || !extension.url.includes(':') || this.skip(extension.url.split('|')[0])) return;
    const { type, depth } = this.roots[this.roots.length - 1];
    const key = typeof location[location.length - 1] === 'number' ? location.length - 2 : location.length - 1;
    let at = '';
    for (const segment of location) at += typeof segment === 'number' ? `[${segment}]` : at ? `.${elementName(segment)}` : segment;
    let where = type;
    for (let i = depth; i < key; i++) {
      const segment = location[i];
      if (typeof segment === 'string') where += `.${segment === 'modifierExtension' ? 'extension' : elementName(segment)}`;
    }
    this.found.push({ extension, at, where, modifier });
  }
}

/** `_birthDate` (a primitive's id and extensions) is the element birthDate. */
const elementName = (key: string): string => (key.charCodeAt(0) === 95 ? key.slice(1) : key);
