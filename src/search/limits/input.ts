/**
 * Bounds on the search input itself, checked before anything is compiled or queried: the number of parameters
 * and the length of each name and value. Messages name the parameter and never repeat its value, which may
 * identify a patient or be megabytes long.
 */
import { FhirError } from '../../core/errors';

export interface InputLimits {
  /** Parameters of one request (query and form together). */
  maxParameters: number;
  /** Characters in one parameter name or value. */
  maxValueLength: number;
}

/** Parameter names are shown in messages only up to this length. */
const NAME_SHOWN = 64;

function tooCostly(diagnostics: string, expression?: string): FhirError {
  return new FhirError('incorrect', [{ severity: 'error', code: 'too-costly', diagnostics, ...(expression ? { expression: [expression] } : {}) }]);
}

export function tooManyParameters(max: number): FhirError {
  return tooCostly(`The request has more than ${max} parameters; send at most ${max}`);
}

/** Throws a 400 `too-costly` when `query` holds too many parameters or a name or value that is too long. */
export function checkSearchInput(query: ReadonlyArray<readonly [string, string]>, limits: InputLimits): void {
  if (query.length > limits.maxParameters) throw tooManyParameters(limits.maxParameters);
  for (const [name, value] of query) {
    if (name.length > limits.maxValueLength) throw tooCostly(`A parameter name is longer than ${limits.maxValueLength} characters`);
    if (value.length > limits.maxValueLength) {
      const shown = name.length > NAME_SHOWN ? `${name.slice(0, NAME_SHOWN)}...` : name;
      throw tooCostly(`The value of parameter '${shown}' is longer than ${limits.maxValueLength} characters`, shown);
    }
  }
}
