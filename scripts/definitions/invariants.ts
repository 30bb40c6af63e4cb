/**
 * Build step for FHIRPath invariants: turns the `constraint` entries of HL7's R4 StructureDefinition snapshots
 * (hl7.fhir.r4.examples@4.0.1, Bundle-types.json and Bundle-resources.json) into one node per datatype, resource
 * type and backbone element, each listing its JSON properties and the constraints on them.
 * Output: generated/validation/invariants.json, read by src/validation/invariants.ts.
 *
 * Spec: https://hl7.org/fhir/R4/conformance-rules.html#constraints, https://hl7.org/fhir/R4/elementdefinition.html
 */
import { isCurrent, stampOf, writeAtomically } from './artifacts';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ElementDefinition, ElementDefinitionConstraint, StructureDefinition } from 'fhir/r4';
import {
  INVARIANTS_FILE,
  INVARIANTS_FORMAT,
  type ChildDefinition,
  type ConstraintDefinition,
  type InvariantDefinitions,
  type InvariantNode,
} from '../../src/validation/invariants-format';

const ROOT = resolve(__dirname, '..', '..');
const PACKAGE_DIR = join(ROOT, 'node_modules', 'hl7.fhir.r4.examples');
const OUTPUT_DIR = join(ROOT, 'generated', 'validation');
const STAMP_FILE = join(OUTPUT_DIR, 'invariants-stamp.txt');
const STRUCTURE_BUNDLES = ['Bundle-types.json', 'Bundle-resources.json'];
const BUILDER_SOURCES = [__filename, join(ROOT, 'src', 'validation', 'invariants-format.ts')];
const BEST_PRACTICE = 'http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice';

/**
 * ele-1 ("All FHIR elements must have a @value or children") is on every element; the validator checks it
 * natively on every object it walks instead of evaluating it thousands of times as FHIRPath.
 */
const NATIVE = new Set(['ele-1']);

/** Constraints not evaluated, and why (documented in docs/validation.md). */
const SKIPPED: Record<string, string> = {
  'ctm-1': 'calls resolve() on CareTeam.participant.member: needs the referenced resource, which validation of one resource does not have',
};

/**
 * R4.0.1 expressions that cannot mean what their text says under FHIRPath as specified, restated (documented in
 * docs/validation.md): each rewrite keeps the constraint's intent and is the form later FHIR versions adopted.
 */
const REWRITES: Record<string, { from: string; to: string; reason: string }> = {
  'dom-3': {
    from: 'descendants().as(',
    to: 'descendants().ofType(',
    reason: 'as() is defined on a single item; applied to all descendants it is an error. R4B/R5 use ofType()',
  },
  'que-7': {
    from: 'answer is Boolean',
    to: 'answer is boolean',
    reason: "Boolean (System.Boolean) never matches the FHIR boolean of answerBoolean, so every 'exists' condition would fail",
  },
};

export async function buildInvariantDefinitions(): Promise<void> {
  const stamp = stampOf([...BUILDER_SOURCES, ...STRUCTURE_BUNDLES.map((file) => join(PACKAGE_DIR, file))], INVARIANTS_FORMAT);
  const output = join(OUTPUT_DIR, INVARIANTS_FILE);
  if (isCurrent(STAMP_FILE, stamp, [output])) return;
  const structures = STRUCTURE_BUNDLES.flatMap((file) => {
    const bundle = JSON.parse(readFileSync(join(PACKAGE_DIR, file), 'utf8')) as { entry?: Array<{ resource?: StructureDefinition }> };
    return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition');
  });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeAtomically(output, JSON.stringify(invariantDefinitions(structures)));
  writeAtomically(STAMP_FILE, stamp);
}

export function invariantDefinitions(structures: StructureDefinition[]): InvariantDefinitions {
  const types = structures.filter((sd) => (sd.derivation === 'specialization' || sd.id === 'Element') && !sd.abstract);
  const primitives = new Set(types.filter((sd) => sd.kind === 'primitive-type').map((sd) => sd.type));
  const rootConstraints = new Map(types.map((sd) => [sd.type, new Set((sd.snapshot?.element[0]?.constraint ?? []).map((c) => c.key))]));
  const nodes: Record<string, InvariantNode> = {};
  const skipped: InvariantDefinitions['skipped'] = [];

  const constraintsOf = (element: ElementDefinition, typeCode: string | undefined, sd: StructureDefinition): ConstraintDefinition[] => {
    const inherited = typeCode ? rootConstraints.get(typeCode) : undefined;
    const list: ConstraintDefinition[] = [];
    for (const c of element.constraint ?? []) {
      if (NATIVE.has(c.key) || inherited?.has(c.key) || !c.expression) continue;
      if (SKIPPED[c.key]) {
        if (!skipped.some((s) => s.key === c.key && s.path === element.path)) skipped.push({ key: c.key, path: element.path, reason: SKIPPED[c.key] });
        continue;
      }
      list.push(constraintDefinition(c, sd));
    }
    return list;
  };

  for (const sd of types) {
    const elements = (sd.snapshot?.element ?? []).filter((e) => !e.sliceName);
    const byPath = new Map(elements.map((e) => [e.path, e]));
    const root = elements[0];
    const parents = new Set(elements.map((e) => e.path.slice(0, e.path.lastIndexOf('.'))));
    const nodeFor = (path: string): InvariantNode => {
      if (!nodes[path]) nodes[path] = { path, children: {} };
      return nodes[path];
    };
    const rootNode = nodeFor(sd.type);
    if (sd.kind === 'resource') rootNode.resource = true;
    const own = root ? constraintsOf(root, undefined, sd) : [];
    if (own.length) rootNode.constraints = own;
    for (const element of elements.slice(1)) {
      const parentPath = element.path.slice(0, element.path.lastIndexOf('.'));
      const parent = nodeFor(parentPath === sd.type ? sd.type : parentPath);
      const last = element.path.slice(parentPath.length + 1);
      const isChoice = last.endsWith('[x]');
      const name = isChoice ? last.slice(0, -3) : last;
      const referenced = element.contentReference ? byPath.get(element.contentReference.slice(1)) : undefined;
      const isBackbone = parents.has(element.path);
      for (const type of element.contentReference ? [undefined] : (element.type ?? [])) {
        const code = type?.code;
        const key = isChoice && code ? name + code.charAt(0).toUpperCase() + code.slice(1) : name;
        const constraints = constraintsOf(referenced ?? element, isBackbone || referenced ? undefined : code, sd);
        const child: ChildDefinition = { name, kind: 'complex' };
        if (referenced) child.node = referenced.path;
        else if (isBackbone) child.node = element.path;
        else if (!code || code.startsWith('http://hl7.org/fhirpath/System.')) child.kind = 'primitive';
        else if (primitives.has(code)) {
          child.kind = 'primitive';
          parent.children[`_${key}`] = { name, kind: 'complex', node: code };
        } else if (code === 'Resource') child.kind = 'resource';
        else child.node = code;
        if (constraints.length) child.constraints = constraints;
        parent.children[key] = child;
      }
    }
  }
  return { format: INVARIANTS_FORMAT, nodes, skipped };
}

function constraintDefinition(c: ElementDefinitionConstraint, sd: StructureDefinition): ConstraintDefinition {
  const rewrite = REWRITES[c.key];
  const expression = rewrite && c.expression?.includes(rewrite.from) ? c.expression.split(rewrite.from).join(rewrite.to) : (c.expression as string);
  const bestPractice = (c.extension ?? []).some((x) => x.url === BEST_PRACTICE && x.valueBoolean === true);
  return {
    key: c.key,
    severity: c.severity === 'error' && !bestPractice ? 'error' : 'warning',
    human: c.human,
    expression,
    source: c.source ?? sd.url,
    ...(bestPractice ? { bestPractice: true as const } : {}),
  };
}
