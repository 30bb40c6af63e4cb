/**
 * Subsetting of returned resources by `_summary` and `_elements` (https://hl7.org/fhir/R4/search.html#summary,
 * https://hl7.org/fhir/R4/search.html#elements). Trimmed resources are new objects marked with the SUBSETTED tag
 * (https://hl7.org/fhir/R4/v3/ObservationValue/cs.html); stored resources are never modified.
 */
import type { Coding, Resource } from 'fhir/r4';
import type { ResourceElementSets } from './summary-artifact';

export const SUBSETTED_TAG: Readonly<Coding> = Object.freeze({
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
  display: 'subsetted',
});

/** The `_summary` values that trim resources; `count` and `false` do not return trimmed resources. */
export type SubsettingSummary = 'true' | 'text' | 'data';

/** Elements every subset keeps, whatever was asked for. */
const ALWAYS_KEPT = ['resourceType', 'id', 'meta'];

export class ResourceSubsetter {
  constructor(private readonly sets: Readonly<Record<string, ResourceElementSets>>) {}

  /** `_summary=true|text|data`: summary elements; text, id, meta and mandatory elements; everything but text. */
  summary(resource: Resource, mode: SubsettingSummary): Resource {
    const sets = this.sets[resource.resourceType];
    if (mode === 'data') return keepElements(resource, (name) => name !== 'text', sets?.choice ?? []);
    if (!sets) return resource;
    const kept = new Set(mode === 'true' ? sets.summary : ['text', ...sets.mandatory]);
    return keepElements(resource, (name) => ALWAYS_KEPT.includes(name) || kept.has(name), sets.choice);
  }

  /** `_elements=a,b`: the named top-level elements plus id, meta and the mandatory ones. */
  elements(resource: Resource, names: readonly string[]): Resource {
    const sets = this.sets[resource.resourceType];
    const kept = new Set([...names, ...(sets?.mandatory ?? [])]);
    return keepElements(resource, (name) => ALWAYS_KEPT.includes(name) || kept.has(name), sets?.choice ?? []);
  }
}

/**
 * The element name a JSON key belongs to: `_birthDate` (primitive extension) -> `birthDate`,
 * `deceasedBoolean` -> `deceased` when `deceased` is a choice element.
 */
export function elementNameOfKey(key: string, choices: readonly string[]): string {
  const name = key.startsWith('_') ? key.slice(1) : key;
  for (const choice of choices) {
    if (name.length > choice.length && name.startsWith(choice) && isUpperCase(name.charCodeAt(choice.length))) return choice;
  }
  return name;
}

const isUpperCase = (code: number): boolean => code >= 65 && code <= 90;

function keepElements(resource: Resource, keep: (name: string) => boolean, choices: readonly string[]): Resource {
  const source = resource as unknown as Record<string, unknown>;
  const trimmed: Record<string, unknown> = {};
  let removed = false;
  for (const [key, value] of Object.entries(source)) {
    if (key === 'resourceType' || keep(elementNameOfKey(key, choices))) trimmed[key] = value;
    else removed = true;
  }
  if (!removed) return resource;
  const meta = resource.meta ?? {};
  const tags = meta.tag ?? [];
  const tagged = tags.some((t) => t.system === SUBSETTED_TAG.system && t.code === SUBSETTED_TAG.code);
  trimmed.meta = { ...meta, tag: tagged ? tags : [...tags, { ...SUBSETTED_TAG }] };
  return trimmed as unknown as Resource;
}
