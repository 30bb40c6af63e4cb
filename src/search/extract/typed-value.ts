/**
 * FHIRPath results with their FHIR type: the extractor evaluates with `resolveInternalTypes: false`, so each
 * result is a node carrying its data type (`CodeableConcept`, `dateTime`, ...) or a plain System value.
 */

export interface TypedValue {
  /** FHIR data type name (`Coding`, `Period`, `code`, ...) or `System.String` / `System.Boolean` / ... */
  type: string;
  value: unknown;
}

interface FhirPathNode {
  fhirNodeDataType?: string;
  data?: unknown;
  path?: string;
}

const SYSTEM_TYPES: Record<string, string> = { string: 'System.String', boolean: 'System.Boolean', number: 'System.Decimal' };

/** fhirpath wraps decimal and integer primitives in its own decimal class (FP_Decimal). */
function isDecimal(data: unknown): data is { toNumber(): number } {
  return typeof data === 'object' && data !== null && typeof (data as { toNumber?: unknown }).toNumber === 'function';
}

/** Unwraps one FHIRPath result; undefined for empty nodes (a primitive with only an extension). */
export function typedValue(result: unknown): TypedValue | undefined {
  if (result === null || result === undefined) return undefined;
  if (typeof result === 'object' && 'fhirNodeDataType' in result) {
    const node = result as FhirPathNode;
    if (node.data === undefined || node.data === null) return undefined;
    return { type: node.fhirNodeDataType ?? 'unknown', value: isDecimal(node.data) ? node.data.toNumber() : node.data };
  }
  const system = SYSTEM_TYPES[typeof result];
  if (system) return { type: system, value: result };
  // Internal FHIRPath values (dates, quantities computed by an expression) stringify to their literal form.
  return { type: 'System.String', value: String(result) };
}

/** The element path of a node (`Observation.component`), for evaluating expressions relative to it. */
export function nodePath(result: unknown): string | undefined {
  return typeof result === 'object' && result !== null ? (result as FhirPathNode).path : undefined;
}

/** Plain-object access helpers for FHIR JSON. */
export type Json = Record<string, unknown>;
export const asObject = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
export const asString = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
