/**
 * Build step for `_summary` and `_elements` (https://hl7.org/fhir/R4/search.html#summary): extracts, per resource
 * type, the top-level elements flagged `isSummary`, the mandatory ones (min >= 1) and the choice elements from the
 * R4 StructureDefinitions in Bundle-resources.json into generated/summary/summary-elements.json.
 * A stamp of every input (and of this builder) is stamped next to the output, so an up-to-date build is a no-op.
 */
import { isCurrent, stampOf, writeAtomically } from './artifacts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StructureDefinition } from 'fhir/r4';
import {
  SUMMARY_ELEMENTS_FILE,
  SUMMARY_STAMP_FILE,
  summaryArtifactsDir,
  type ResourceElementSets,
  type SummaryArtifact,
} from '../../src/search/results/summary-artifact';

const REPO_ROOT = path.resolve(__dirname, '../..');

function inputFiles(): string[] {
  return [
    require.resolve('hl7.fhir.r4.examples/Bundle-resources.json', { paths: [REPO_ROOT] }),
    __filename,
    path.join(REPO_ROOT, 'src/search/results/summary-artifact.ts'),
  ];
}

/** The element sets of one concrete resource type, from the top-level elements of its snapshot. */
export function elementSetsOf(definition: StructureDefinition): ResourceElementSets {
  const sets: ResourceElementSets = { summary: [], mandatory: [], choice: [] };
  for (const element of definition.snapshot?.element ?? []) {
    const segments = element.path.split('.');
    if (segments.length !== 2) continue;
    const isChoice = segments[1].endsWith('[x]');
    const name = isChoice ? segments[1].slice(0, -3) : segments[1];
    if (element.isSummary) sets.summary.push(name);
    if ((element.min ?? 0) >= 1) sets.mandatory.push(name);
    if (isChoice) sets.choice.push(name);
  }
  return sets;
}

/** Writes generated/summary/summary-elements.json unless the stamp says it is current. */
export async function buildSummaryDefinitions(definitionsDir?: string): Promise<void> {
  const outDir = summaryArtifactsDir(definitionsDir ?? path.join(REPO_ROOT, 'generated'));
  const files = inputFiles();
  const stamp = stampOf(files);
  const stampFile = path.join(outDir, SUMMARY_STAMP_FILE);
  const output = path.join(outDir, SUMMARY_ELEMENTS_FILE);
  if (isCurrent(stampFile, stamp, [output])) return;

  const bundle = JSON.parse(fs.readFileSync(files[0], 'utf8')) as { entry: Array<{ resource: { resourceType: string } }> };
  const types: Record<string, ResourceElementSets> = {};
  for (const { resource } of bundle.entry) {
    if (resource.resourceType !== 'StructureDefinition') continue;
    const definition = resource as StructureDefinition;
    if (definition.kind !== 'resource' || definition.abstract || definition.derivation !== 'specialization') continue;
    types[definition.type] = elementSetsOf(definition);
  }
  const artifact: SummaryArtifact = { fhirVersion: '4.0.1', types };

  fs.mkdirSync(outDir, { recursive: true });
  writeAtomically(output, JSON.stringify(artifact));
  writeAtomically(stampFile, stamp);
}

if (require.main === module) {
  buildSummaryDefinitions().catch((err: unknown) => {
    process.stderr.write(`summary definitions failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
