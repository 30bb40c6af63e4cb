/**
 * Shape of generated/validation/definitions.json, written by scripts/definitions/validation.ts from the
 * R4 StructureDefinitions and read by the validator. Bump DEFINITIONS_FORMAT when the shape changes.
 */

export const DEFINITIONS_FORMAT = 'fhir-r4-validation/3';
export const DEFINITIONS_FILE = 'definitions.json';

/** Schema id of the `_element` object that carries a primitive's id and extensions (or null in arrays). */
export const PRIMITIVE_ELEMENT_ID = 'PrimitiveElement';

/**
 * Per-object rules JSON Schema cannot state without cascading errors, checked by the `fhirElement` keyword.
 * https://hl7.org/fhir/R4/formats.html#choice, https://hl7.org/fhir/R4/json.html#primitive
 */
export interface ElementRules {
  /**
   * Choice elements `value[x]`: at most one variant present (exactly one when required). `schemas` holds the
   * JSON Schema of each variant property, `valueString` and (for primitive types) `_valueString`.
   */
  choices?: Array<{ name: string; variants: string[]; required: boolean; schemas: Record<string, Record<string, unknown>> }>;
  /** Repeating primitives whose `x` and `_x` arrays must align (null only where the other side has a value). */
  primitiveArrays?: string[];
  /** Primitives with min >= 1: present as a value `x` or as an `_x` element. */
  requiredPrimitives?: string[];
}

export interface ValidationDefinitions {
  format: typeof DEFINITIONS_FORMAT;
  fhirVersion: string;
  /** Concrete R4 resource type names. */
  resourceTypes: string[];
  /**
   * One JSON Schema per datatype and resource type, keyed and `$id`-ed by type name. Besides standard
   * keywords they use `fhirElement` (ElementRules), `fhirBinding` (value set url, on `code` values),
   * `fhirCodingBinding` (value set url, on Coding and CodeableConcept values), `fhirCalendar` (date, dateTime and
   * instant values name a day that exists), `fhirResource` (a nested resource validated as its own type) and the
   * annotation `fhirType` (primitive type name).
   */
  schemas: Record<string, Record<string, unknown>>;
  /** Codes of every enumerable value set used by a required binding on a `code` element. */
  valueSets: Record<string, string[]>;
  /**
   * `system|code` of every concept of each enumerable value set used by a required binding on a Coding or
   * CodeableConcept element.
   */
  codingValueSets: Record<string, string[]>;
  /** Required bindings (on code, Coding or CodeableConcept elements) whose value set cannot be enumerated from the R4 bundles. */
  uncheckedRequiredBindings: string[];
}
