/**
 * The `_summary` / `_elements` build artifact (https://hl7.org/fhir/R4/search.html#summary): per resource type,
 * the top-level element names flagged `isSummary` and those with a minimum cardinality of 1 in the R4 base
 * StructureDefinitions. Written by scripts/definitions/summary.ts, read at start-up.
 */
import * as path from 'node:path';

export const SUMMARY_ELEMENTS_FILE = 'summary-elements.json';
export const SUMMARY_STAMP_FILE = 'stamp.txt';

export const summaryArtifactsDir = (definitionsDir: string = path.resolve(process.cwd(), 'generated')): string =>
  path.join(definitionsDir, 'summary');

/**
 * Element names are written as in JSON without the `[x]` suffix; `choice` lists the names that were `[x]`
 * elements, whose JSON keys carry a type suffix (deceased[x] -> deceasedBoolean, deceasedDateTime).
 */
export interface ResourceElementSets {
  summary: string[];
  mandatory: string[];
  choice: string[];
}

/** generated/summary/summary-elements.json */
export interface SummaryArtifact {
  fhirVersion: string;
  types: Record<string, ResourceElementSets>;
}
