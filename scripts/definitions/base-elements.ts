/**
 * Build step for snapshot generation: the snapshot elements of HL7's R4 StructureDefinitions (Bundle-types.json,
 * Bundle-resources.json), without prose, and the URLs of the core extension definitions (Bundle-extensions.json).
 * Output: generated/validation/base-elements.json, read by src/validation/snapshot.ts.
 */
import { isCurrent, stampOf, writeAtomically } from './artifacts';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { BASE_ELEMENTS_FILE, BASE_ELEMENTS_FORMAT, BASE_ELEMENTS_STAMP_FILE, KEPT_PROPERTIES, type BaseElements } from '../../src/validation/base-elements-format';

const ROOT = resolve(__dirname, '..', '..');
const PACKAGE_DIR = join(ROOT, 'node_modules', 'hl7.fhir.r4.examples');
const OUTPUT_DIR = join(ROOT, 'generated', 'validation');
const STAMP_FILE = join(OUTPUT_DIR, BASE_ELEMENTS_STAMP_FILE);
const STRUCTURE_BUNDLES = ['Bundle-types.json', 'Bundle-resources.json'];
const EXTENSION_BUNDLE = 'Bundle-extensions.json';
const BUILDER_SOURCES = [__filename, join(ROOT, 'src', 'validation', 'base-elements-format.ts')];

const structuresOf = (file: string): StructureDefinition[] => {
  const bundle = JSON.parse(readFileSync(join(PACKAGE_DIR, file), 'utf8')) as { entry?: Array<{ resource?: StructureDefinition }> };
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition');
};

/** An element without its prose; the base's constraints keep their key and source (the base validator evaluates them). */
export function reduceElement(element: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(element)) if (KEPT_PROPERTIES.test(key)) out[key] = value;
  if (element.constraint) out.constraint = element.constraint.map(({ key, source }) => ({ key, source }));
  if (element.binding) out.binding = { strength: element.binding.strength, ...(element.binding.valueSet ? { valueSet: element.binding.valueSet } : {}) };
  if (element.slicing) out.slicing = { discriminator: element.slicing.discriminator, rules: element.slicing.rules, ...(element.slicing.ordered !== undefined ? { ordered: element.slicing.ordered } : {}) };
  return out as unknown as ElementDefinition;
}

export async function buildBaseElements(): Promise<void> {
  const stamp = stampOf([...BUILDER_SOURCES, ...[...STRUCTURE_BUNDLES, EXTENSION_BUNDLE].map((file) => join(PACKAGE_DIR, file))], BASE_ELEMENTS_FORMAT);
  const output = join(OUTPUT_DIR, BASE_ELEMENTS_FILE);
  if (isCurrent(STAMP_FILE, stamp, [output])) return;
  const artifact: BaseElements = { format: BASE_ELEMENTS_FORMAT, definitions: {}, extensions: [] };
  for (const sd of STRUCTURE_BUNDLES.flatMap(structuresOf)) {
    if (sd.kind === 'logical' || !sd.snapshot) continue;
    artifact.definitions[sd.url] = {
      url: sd.url,
      type: sd.type,
      kind: sd.kind,
      ...(sd.derivation ? { derivation: sd.derivation } : {}),
      ...(sd.baseDefinition ? { baseDefinition: sd.baseDefinition } : {}),
      elements: sd.snapshot.element.map(reduceElement),
    };
  }
  artifact.extensions = structuresOf(EXTENSION_BUNDLE).filter((sd) => sd.type === 'Extension').map((sd) => sd.url).sort();
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeAtomically(output, JSON.stringify(artifact));
  writeAtomically(STAMP_FILE, stamp);
}
