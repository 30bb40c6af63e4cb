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
  walk(resource, type, type, visit);
}

function walk(value: Json, at: string, where: string, visit: (found: FoundExtension) => void): void {
  for (const raw in value) {
    const child = value[raw];
    if (child === null || typeof child !== 'object') continue;
    const key = raw.charCodeAt(0) === 95 ? raw.slice(1) : raw;
    const extension = key === 'extension' || key === 'modifierExtension';
    const list = Array.isArray(child) ? child : [child];
    for (let i = 0; i < list.length; i++) {
      const item = list[i] as Json;
      if (item === null || typeof item !== 'object') continue;
      const itemAt = `${at}.${key}${Array.isArray(child) ? `[${i}]` : ''}`;
      if (extension && typeof item.url === 'string' && item.url.includes(':')) visit({ extension: item, at: itemAt, where, modifier: key === 'modifierExtension' });
      const nested = typeof item.resourceType === 'string';
      walk(item, itemAt, nested ? (item.resourceType as string) : extension ? `${where}.extension` : `${where}.${key}`, visit);
    }
  }
}
