/** OperationOutcome builders (https://hl7.org/fhir/R4/operationoutcome.html). */
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type { OperationOutcome, OperationOutcomeIssue };

export function outcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues.length ? issues : [informational('All OK')] };
}

export function informational(text: string): OperationOutcomeIssue {
  return { severity: 'information', code: 'informational', diagnostics: text };
}

export function warning(text: string, code: OperationOutcomeIssue['code'] = 'processing', expression?: string): OperationOutcomeIssue {
  return { severity: 'warning', code, diagnostics: text, ...(expression ? { expression: [expression] } : {}) };
}
