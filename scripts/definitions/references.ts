/**
 * Build step for referential integrity (src/fhir/integrity): from the snapshots of the R4 resources and complex
 * datatypes, every element path with what it holds — a Reference and the types its targetProfile allows, a
 * complex datatype, a backbone element or a contentReference — into generated/references/reference-elements.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { isCurrent, stampOf, writeAtomically } from './artifacts';
import {
  REFERENCE_ELEMENTS_FILE,
  REFERENCE_STAMP_FILE,
  referenceArtifactsDir,
  type ReferenceElement,
  type ReferenceElementsArtifact,
} from '../../src/fhir/integrity/reference-elements';

const REPO_ROOT = path.resolve(__dirname, '../..');
const PROFILE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';
/** Types whose content is not walked: primitives (lower case), and nested resources (contained, Bundle entries). */
const NOT_WALKED = new Set(['Resource', 'DomainResource', 'Element', 'BackboneElement', 'xhtml', 'Narrative']);

function inputFiles(): string[] {
  return [
    require.resolve('hl7.fhir.r4.examples/Bundle-resources.json', { paths: [REPO_ROOT] }),
    require.resolve('hl7.fhir.r4.examples/Bundle-types.json', { paths: [REPO_ROOT] }),
    __filename,
    path.join(REPO_ROOT, 'src/fhir/integrity/reference-elements.ts'),
  ];
}

const capitalised = (code: string): string => `${code.charAt(0).toUpperCase()}${code.slice(1)}`;

function describeType(type: NonNullable<ElementDefinition['type']>[number]): ReferenceElement | undefined {
  if (type.code === 'Reference') {
    const targets = (type.targetProfile ?? []).map((p) => (p.startsWith(PROFILE_PREFIX) ? p.slice(PROFILE_PREFIX.length) : p));
    return targets.length === 0 || targets.includes('Resource') ? { r: 1 } : { r: targets };
  }
  if (/^[A-Z]/.test(type.code) && !NOT_WALKED.has(type.code)) return { t: type.code };
  return undefined;
}

export function referenceElementsOf(definition: StructureDefinition, into: Record<string, ReferenceElement>): void {
  const elements = definition.snapshot?.element ?? [];
  const paths = new Set(elements.map((e) => e.path));
  const hasChildren = (p: string): boolean => {
    for (const other of paths) if (other.startsWith(`${p}.`)) return true;
    return false;
  };
  for (const element of elements) {
    const p = element.path;
    if (!p.includes('.')) continue;
    if (element.contentReference) {
      into[p] = { c: element.contentReference.replace(/^#/, '') };
      continue;
    }
    const types = element.type ?? [];
    if (p.endsWith('[x]')) {
      const base = p.slice(0, -3);
      for (const type of types) {
        const described = describeType(type);
        if (described) into[`${base}${capitalised(type.code)}`] = described;
      }
      continue;
    }
    if (hasChildren(p)) {
      into[p] = { b: 1 };
      continue;
    }
    const [type] = types;
    const described = type ? describeType(type) : undefined;
    if (described) into[p] = described;
  }
}

export async function buildReferenceDefinitions(definitionsDir?: string): Promise<void> {
  const outDir = referenceArtifactsDir(definitionsDir ?? path.join(REPO_ROOT, 'generated'));
  const files = inputFiles();
  const stamp = stampOf(files);
  const stampFile = path.join(outDir, REFERENCE_STAMP_FILE);
  const output = path.join(outDir, REFERENCE_ELEMENTS_FILE);
  if (isCurrent(stampFile, stamp, [output])) return;
  const elements: Record<string, ReferenceElement> = {};
  for (const file of files.slice(0, 2)) {
    const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as { entry: Array<{ resource: { resourceType: string } }> };
    for (const { resource } of bundle.entry) {
      if (resource.resourceType !== 'StructureDefinition') continue;
      const definition = resource as StructureDefinition;
      if (definition.derivation !== 'specialization' || (definition.kind !== 'resource' && definition.kind !== 'complex-type')) continue;
      referenceElementsOf(definition, elements);
    }
  }
  const artifact: ReferenceElementsArtifact = { fhirVersion: '4.0.1', elements };
  fs.mkdirSync(outDir, { recursive: true });
  writeAtomically(output, JSON.stringify(artifact));
  writeAtomically(stampFile, stamp);
}
