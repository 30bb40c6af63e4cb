/** The FHIRPath engine (`fhirpath` package with its R4 model) as used for search (https://hl7.org/fhir/R4/fhirpath.html). */
import * as fhirpath from 'fhirpath';
import * as r4 from 'fhirpath/fhir-context/r4';
import type { Model } from 'fhirpath';

export const r4Model = r4 as unknown as Model;

/** A compiled expression returning raw nodes (with their FHIR type) rather than plain JSON; `env` sets %variables. */
export type NodeEvaluator = (input: unknown, env?: Record<string, unknown>) => unknown[];

/**
 * Compiles `expression` once against the R4 model. With `base`, the expression is relative to an element of
 * that path (e.g. base `Observation.component`, expression `value.as(Quantity)`). Throws on syntax errors.
 */
export function compileNodes(expression: string, base?: string): NodeEvaluator {
  const fn = fhirpath.compile(base ? { base, expression } : expression, r4Model, { resolveInternalTypes: false });
  return (input, env) => fn(input as never, env as never) as unknown[];
}
