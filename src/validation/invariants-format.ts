/**
 * Shape of generated/validation/invariants.json, written by scripts/definitions/invariants.ts from the `constraint`
 * entries of the R4 StructureDefinition snapshots (https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.constraint)
 * and read by src/validation/invariants.ts. Bump INVARIANTS_FORMAT when the shape changes.
 */

export const INVARIANTS_FORMAT = 'fhir-r4-invariants/1';
export const INVARIANTS_FILE = 'invariants.json';

/** One FHIRPath invariant as the definitions state it. */
export interface ConstraintDefinition {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression: string;
  /** Canonical URL of the StructureDefinition that defines it. */
  source: string;
  /** Flagged with the best-practice extension: reported as a warning whatever its severity. */
  bestPractice?: true;
}

/**
 * A JSON property of an element: its element name (`value` for `valueQuantity`), the kind of value it holds and,
 * for complex values, the node describing that value.
 */
export interface ChildDefinition {
  name: string;
  kind: 'primitive' | 'complex' | 'resource';
  /** Node id (a type name or a backbone element path) for complex values, and for `_x` primitive extensions. */
  node?: string;
  /** Constraints of this element (beyond those of its type), evaluated on each of its values. */
  constraints?: ConstraintDefinition[];
}

/** A datatype, a resource type or a backbone element: what its JSON object may hold and which invariants apply to it. */
export interface InvariantNode {
  /** FHIRPath base of expressions evaluated on it: the type name, or the backbone element path. */
  path: string;
  /** The root of a resource type. */
  resource?: true;
  /** Constraints on the type itself (its root element), evaluated on every value of the type. */
  constraints?: ConstraintDefinition[];
  children: Record<string, ChildDefinition>;
}

export interface InvariantDefinitions {
  format: typeof INVARIANTS_FORMAT;
  nodes: Record<string, InvariantNode>;
  /** Constraints of the definitions that are not evaluated, with the reason (see docs/validation.md). */
  skipped: Array<{ key: string; path: string; reason: string }>;
}
