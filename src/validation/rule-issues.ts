/**
 * Issues from rules beyond the structure (invariants, profiles): a write breaking only those is well-formed FHIR
 * that breaks the definitions' rules, refused with 422 rather than 400 (https://hl7.org/fhir/R4/http.html#2.21.0.9).
 */
import type { OperationOutcomeIssue } from '../core/outcome';

const ruleIssues = new WeakSet<OperationOutcomeIssue>();

export function ruleIssue(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  ruleIssues.add(issue);
  return issue;
}

export const isRuleIssue = (issue: OperationOutcomeIssue): boolean => issue.code === 'invariant' || ruleIssues.has(issue);
