/**
 * Required bindings on Coding and CodeableConcept elements (https://hl7.org/fhir/R4/terminologies.html#required):
 * "the concept in this element SHALL be from the specified value set". Coded values are always a system and code
 * pair (https://hl7.org/fhir/R4/terminologies.html), so a Coding conforms when its system|code is in the value set,
 * and a CodeableConcept when at least one of its codings is (the others are translations,
 * https://hl7.org/fhir/R4/datatypes.html#CodeableConcept). A CodeableConcept without codings (text only) carries
 * no concept from any value set, so it cannot conform to a required binding whose value set is enumerable.
 */

export type CodedType = 'Coding' | 'CodeableConcept';

/** The system and code of one coding, as found in the resource (either may be missing). */
export interface FoundCoding {
  system?: string;
  code?: string;
}

/** Why a coded value does not conform, or undefined when it does. */
export type CodingBindingProblem = { codings: FoundCoding[] } | undefined;

const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks one Coding or CodeableConcept value against the `system|code` keys of an enumerated value set. */
export function checkCodingBinding(type: CodedType, value: unknown, allowed: ReadonlySet<string>): CodingBindingProblem {
  if (!isObject(value)) return undefined;
  const codings = type === 'Coding' ? [value] : Array.isArray(value.coding) ? value.coding : [];
  for (const coding of codings) {
    if (!isObject(coding) || typeof coding.system !== 'string' || typeof coding.code !== 'string') continue;
    if (allowed.has(`${coding.system}|${coding.code}`)) return undefined;
  }
  return {
    codings: codings.filter(isObject).map((coding) => ({ system: asString(coding.system), code: asString(coding.code) })),
  };
}
