/**
 * Errors raised while compiling search criteria (https://hl7.org/fhir/R4/search.html#errors).
 * Malformed values are always the client's error; unknown or unsupported parameters are either ignored with a
 * warning or rejected, depending on the Prefer handling the client asked for.
 */
import { invalid, type FhirError } from '../../core/errors';

/** A parameter (or modifier) this server does not know or cannot evaluate; never escapes CriteriaCompiler. */
export class UnsupportedParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsupportedParameter';
  }
}

/** "Invalid date 'x' in search parameter 'birthdate'" */
export function invalidValue(parameter: string, what: string, value: string): FhirError {
  return invalid(`Invalid ${what} '${value}' in search parameter '${parameter}'`, parameter);
}
