/**
 * Official R4 examples (hl7.fhir.r4.examples@4.0.1) that break the R4 base definitions themselves, with the reason.
 * A server validating against the base definitions must reject them; see docs/examples-report.md.
 */
export const knownInvalidExamples: Record<string /* file name */, string /* reason */> = {};
