/** Loads the `_summary` / `_elements` element sets built by scripts/definitions/summary.ts (https://hl7.org/fhir/R4/search.html#summary). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SUMMARY_ELEMENTS_FILE, summaryArtifactsDir, type ResourceElementSets, type SummaryArtifact } from './summary-artifact';

export function loadSummaryElementSets(definitionsDir?: string): Record<string, ResourceElementSets> {
  const file = path.join(summaryArtifactsDir(definitionsDir), SUMMARY_ELEMENTS_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`Summary definitions missing at ${file}: run \`npm run build:defs\` first`);
  }
  return (JSON.parse(text) as SummaryArtifact).types;
}
