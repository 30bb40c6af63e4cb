/**
 * Build step for search: compiles HL7's R4 SearchParameter registry (Bundle-searchParams.json, 1,375 parameters)
 * and the Patient CompartmentDefinition into compact artifacts under generated/search/
 * (https://hl7.org/fhir/R4/searchparameter-registry.html, https://hl7.org/fhir/R4/compartmentdefinition.html).
 * A stamp of every input (and of this builder) is stamped next to the output, so an up-to-date build is a no-op.
 */
import { isCurrent, stampOf, writeAtomically } from './artifacts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompartmentDefinition, SearchParameter } from 'fhir/r4';
import { type2Parent } from 'fhirpath/fhir-context/r4';
import { specialiseExpression } from '../../src/search/registry/specialise';
import {
  COMPARTMENTS_FILE,
  SEARCH_PARAMETERS_FILE,
  STAMP_FILE,
  searchArtifactsDir,
} from '../../src/search/registry/artifacts';
import type {
  CompactSearchParam,
  CompartmentsArtifact,
  CompositeComponentDef,
  SearchDefinitionsArtifact,
  SearchParamType,
} from '../../src/search/registry/types';

const REPO_ROOT = path.resolve(__dirname, '../..');
const PACKAGE = 'hl7.fhir.r4.examples';

/**
 * Parameters whose R4 type the server deliberately changes. `_profile` is `uri` in R4, but meta.profile holds
 * canonicals, which are searched like references with an optional `|version` (https://hl7.org/fhir/R4/search.html#versions);
 * R5 made it a reference parameter too.
 */
const TYPE_OVERRIDES: Record<string, SearchParamType> = {
  'http://hl7.org/fhir/SearchParameter/Resource-profile': 'reference',
};

function inputFiles(): string[] {
  const pkg = (name: string): string => require.resolve(`${PACKAGE}/${name}`, { paths: [REPO_ROOT] });
  return [
    pkg('Bundle-searchParams.json'),
    pkg('CompartmentDefinition-patient.json'),
    require.resolve('fhirpath/package.json', { paths: [REPO_ROOT] }),
    __filename,
    path.join(REPO_ROOT, 'src/search/registry/specialise.ts'),
    path.join(REPO_ROOT, 'src/search/registry/types.ts'),
  ];
}

/** Every concrete resource type of the R4 model, and whether it derives from DomainResource. */
function resourceTypes(): SearchDefinitionsArtifact['resourceTypes'] {
  const parents = type2Parent as Record<string, string>;
  const chain = (type: string): string[] => {
    const out: string[] = [];
    for (let p = parents[type]; p; p = parents[p]) out.push(p);
    return out;
  };
  return Object.keys(parents)
    .filter((type) => type !== 'DomainResource' && chain(type).includes('Resource'))
    .sort()
    .map((type) => ({ type, domainResource: chain(type).includes('DomainResource') }));
}

function compactParam(sp: SearchParameter, byUrl: Map<string, SearchParameter>): CompactSearchParam {
  const type = TYPE_OVERRIDES[sp.url] ?? (sp.type as SearchParamType);
  const out: CompactSearchParam = { code: sp.code, url: sp.url, type, base: [...sp.base] };
  if (sp.expression) {
    out.expression = sp.expression;
    const expressions: Record<string, string> = {};
    for (const base of sp.base) {
      const specialised = specialiseExpression(sp.expression, base);
      if (specialised !== sp.expression) expressions[base] = specialised;
    }
    if (Object.keys(expressions).length) out.expressions = expressions;
  }
  if (sp.target?.length) out.target = [...sp.target];
  if (sp.modifier?.length) out.modifier = [...sp.modifier];
  if (sp.comparator?.length) out.comparator = [...sp.comparator];
  if (sp.component?.length) {
    out.component = sp.component.map((c: { definition: string; expression: string }): CompositeComponentDef => {
      const def = byUrl.get(c.definition);
      return {
        definition: c.definition,
        expression: c.expression,
        ...(def ? { code: def.code, type: (TYPE_OVERRIDES[def.url] ?? def.type) as SearchParamType } : {}),
      };
    });
  }
  if (sp.multipleOr !== undefined) out.multipleOr = sp.multipleOr;
  if (sp.multipleAnd !== undefined) out.multipleAnd = sp.multipleAnd;
  if (sp.description) out.description = sp.description;
  return out;
}

function compartmentsOf(definition: CompartmentDefinition): CompartmentsArtifact {
  const members: Record<string, string[]> = {};
  for (const entry of definition.resource ?? []) {
    if (entry.param?.length) members[entry.code] = [...entry.param];
  }
  return { [definition.code]: members };
}

/** Writes generated/search/{search-parameters,compartments}.json unless the stamp says they are current. */
export async function buildSearchDefinitions(definitionsDir?: string): Promise<void> {
  const outDir = searchArtifactsDir(definitionsDir ?? path.join(REPO_ROOT, 'generated'));
  const files = inputFiles();
  const stamp = stampOf(files);
  const stampFile = path.join(outDir, STAMP_FILE);
  const outputs = [SEARCH_PARAMETERS_FILE, COMPARTMENTS_FILE].map((f) => path.join(outDir, f));
  if (isCurrent(stampFile, stamp, outputs)) return;

  const bundle = JSON.parse(fs.readFileSync(files[0], 'utf8')) as { entry: Array<{ resource: SearchParameter }> };
  const searchParameters = bundle.entry.map((e) => e.resource);
  const byUrl = new Map(searchParameters.map((sp) => [sp.url, sp]));
  const artifact: SearchDefinitionsArtifact = {
    fhirVersion: '4.0.1',
    resourceTypes: resourceTypes(),
    params: searchParameters.map((sp) => compactParam(sp, byUrl)),
  };
  const patientCompartment = JSON.parse(fs.readFileSync(files[1], 'utf8')) as CompartmentDefinition;

  fs.mkdirSync(outDir, { recursive: true });
  writeAtomically(outputs[0], JSON.stringify(artifact));
  writeAtomically(outputs[1], JSON.stringify(compartmentsOf(patientCompartment)));
  writeAtomically(stampFile, stamp);
}
