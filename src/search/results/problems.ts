/**
 * Unknown or unsupported search parameters are rejected or ignored with a warning, as the client asked with
 * `Prefer: handling=strict|lenient` (https://hl7.org/fhir/R4/search.html#errors). Malformed values are always errors.
 */
import { invalid } from '../../core/errors';
import { warning, type OperationOutcomeIssue } from '../../core/outcome';

export type Handling = 'strict' | 'lenient';

export class ParameterProblems {
  readonly warnings: OperationOutcomeIssue[] = [];

  constructor(private readonly handling: Handling) {}

  /** Something this server does not support: an error when strict, a warning (and ignored) when lenient. */
  unsupported(message: string, parameter: string): void {
    if (this.handling === 'strict') throw invalid(message, parameter);
    this.warnings.push(warning(message, 'not-supported', parameter));
  }

  /** A note that never fails the search (e.g. a result truncated at a server limit). */
  note(message: string, code: OperationOutcomeIssue['code'], parameter?: string): void {
    this.warnings.push(warning(message, code, parameter));
  }
}
