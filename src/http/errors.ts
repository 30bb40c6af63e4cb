/** The one place where error categories become HTTP statuses and OperationOutcomes (https://hl7.org/fhir/R4/http.html#Status-Codes). */
import type { OperationOutcome } from 'fhir/r4';
import { FhirError, HTTP_STATUS, NotAllowed } from '../core/errors';
import { outcome } from '../core/outcome';

const STATUS = HTTP_STATUS;

export interface ErrorResponse {
  status: number;
  body: OperationOutcome;
  /** True when the error is ours, not the client's: log it with its stack. */
  internal: boolean;
  /** Extra response headers (Allow on 405). */
  headers?: Record<string, string>;
}

/** Maps any thrown value; unknown errors become a 500 that names only the request id, never the stack. */
export function errorResponse(err: unknown, requestId: string): ErrorResponse {
  if (err instanceof FhirError) {
    return {
      status: STATUS[err.category],
      body: outcome(err.issues),
      internal: err.category === 'fault',
      ...(err instanceof NotAllowed ? { headers: { Allow: err.allowed.join(', ') } } : {}),
    };
  }
  return {
    status: 500,
    body: outcome([
      { severity: 'fatal', code: 'exception', diagnostics: `The server failed to process the request; quote request id ${requestId} when reporting it` },
    ]),
    internal: true,
  };
}
