/**
 * Typed errors carried through every layer and mapped to HTTP exactly once (src/http/errors.ts).
 * Categories follow the FHIR error semantics of https://hl7.org/fhir/R4/http.html#Status-Codes.
 */
import type { OperationOutcomeIssue } from './outcome';

export type ErrorCategory =
  | 'incorrect' // 400: the request is malformed or semantically wrong
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'not-allowed' // 405
  | 'not-acceptable' // 406: no representation the client accepts
  | 'conflict' // 409: version conflict or duplicate
  | 'deleted' // 410: the resource was deleted
  | 'precondition-failed' // 412: If-Match / conditional criteria mismatch
  | 'too-large' // 413
  | 'unsupported-media-type' // 415
  | 'unprocessable' // 422: valid syntax, but breaks FHIR rules (validation, business rules)
  | 'busy' // 503
  | 'insufficient-storage' // 507: the server cannot store data now (disk full); reads still work
  | 'fault'; // 500: our own bug; never caused by the client

/** The HTTP status of each category; src/http/errors.ts answers with it, and batch/transaction responses name it per entry. */
export const HTTP_STATUS: Readonly<Record<ErrorCategory, number>> = {
  incorrect: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'not-allowed': 405,
  'not-acceptable': 406,
  conflict: 409,
  deleted: 410,
  'precondition-failed': 412,
  'too-large': 413,
  'unsupported-media-type': 415,
  unprocessable: 422,
  fault: 500,
  busy: 503,
  'insufficient-storage': 507,
};

export class FhirError extends Error {
  readonly category: ErrorCategory;
  readonly issues: OperationOutcomeIssue[];

  constructor(category: ErrorCategory, issues: OperationOutcomeIssue[] | string) {
    const list: OperationOutcomeIssue[] =
      typeof issues === 'string' ? [{ severity: 'error', code: defaultIssueCode(category), diagnostics: issues }] : issues;
    super(list.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; '));
    this.name = 'FhirError';
    this.category = category;
    this.issues = list;
  }
}

/** 405 with the methods the path does support (the Allow header, https://www.rfc-editor.org/rfc/rfc9110#status.405). */
export class NotAllowed extends FhirError {
  constructor(
    message: string,
    readonly allowed: string[],
  ) {
    super('not-allowed', message);
  }
}

/** Default OperationOutcome.issue.code per category (https://hl7.org/fhir/R4/valueset-issue-type.html). */
export function defaultIssueCode(category: ErrorCategory): OperationOutcomeIssue['code'] {
  switch (category) {
    case 'incorrect':
      return 'invalid';
    case 'unauthorized':
      return 'login';
    case 'forbidden':
      return 'forbidden';
    case 'not-found':
      return 'not-found';
    case 'not-allowed':
    case 'not-acceptable':
    case 'unsupported-media-type':
      return 'not-supported';
    case 'conflict':
      return 'conflict';
    case 'deleted':
      return 'deleted';
    case 'precondition-failed':
      return 'conflict';
    case 'too-large':
      return 'too-costly';
    case 'unprocessable':
      return 'processing';
    case 'busy':
      return 'transient';
    case 'insufficient-storage':
      return 'no-store';
    case 'fault':
      return 'exception';
  }
}

export const invalid = (msg: string, expression?: string): FhirError =>
  new FhirError('incorrect', [{ severity: 'error', code: 'invalid', diagnostics: msg, ...(expression ? { expression: [expression] } : {}) }]);
export const notFound = (msg: string): FhirError => new FhirError('not-found', msg);
export const conflict = (msg: string): FhirError => new FhirError('conflict', msg);
export const preconditionFailed = (msg: string): FhirError => new FhirError('precondition-failed', msg);
export const unprocessable = (msg: string): FhirError => new FhirError('unprocessable', msg);
