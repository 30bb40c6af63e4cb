/**
 * The reference-elements build artifact: for every element of the R4 resources and complex datatypes, what a
 * walk over a resource needs to find its literal references and the types each may point to (the element's
 * `targetProfile`, https://hl7.org/fhir/R4/references.html#Reference). Written by scripts/definitions/references.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REFERENCE_ELEMENTS_FILE = 'reference-elements.json';
export const REFERENCE_STAMP_FILE = 'stamp.txt';

export const referenceArtifactsDir = (definitionsDir: string): string => path.join(definitionsDir, 'references');

/**
 * Keyed by element path as in the StructureDefinition, with a choice element expanded per type
 * (`Observation.value[x]` -> `Observation.valueReference`, `Observation.valueQuantity`):
 * - `r`: a Reference; the resource types its targetProfile allows (absent: any type)
 * - `t`: a complex datatype to descend into (walk continues at that type's own paths)
 * - `b`: a backbone element (walk continues below this path)
 * - `c`: a contentReference to another element path (walk continues there)
 */
export interface ReferenceElement {
  r?: string[] | 1;
  t?: string;
  b?: 1;
  c?: string;
}

/** generated/references/reference-elements.json */
export interface ReferenceElementsArtifact {
  fhirVersion: string;
  elements: Record<string, ReferenceElement>;
}

export function loadReferenceElements(definitionsDir: string): ReferenceElementsArtifact {
  const file = path.join(referenceArtifactsDir(definitionsDir), REFERENCE_ELEMENTS_FILE);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ReferenceElementsArtifact;
  } catch (err) {
    throw new Error(`Cannot read the reference definitions (${file}): run npm run build:defs (${err instanceof Error ? err.message : String(err)})`);
  }
}
