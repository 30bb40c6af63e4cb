/**
 * Runs examples through a validator and groups the rejections by cause (issue code + diagnostics with the
 * specific values stripped), separating those already explained in known-invalid.ts from unexplained ones.
 */
import type { OperationOutcomeIssue } from '../../src/core/outcome';
import type { ExampleFile } from './corpus';
import { knownInvalidExamples } from './known-invalid';

export interface Rejection {
  file: string;
  issues: OperationOutcomeIssue[];
}

export interface Classification {
  total: number;
  accepted: number;
  /** Rejected examples that known-invalid.ts explains: the example breaks the spec. */
  expectedRejections: Rejection[];
  /** Rejected examples nobody has explained: a validator bug until shown otherwise. */
  unexplainedRejections: Rejection[];
  /** Examples listed as invalid that the validator accepts: the list or the validator is stale. */
  unexpectedlyAccepted: string[];
}

export function classifyExamples(examples: ExampleFile[], validate: (resource: unknown) => OperationOutcomeIssue[]): Classification {
  const result: Classification = { total: examples.length, accepted: 0, expectedRejections: [], unexplainedRejections: [], unexpectedlyAccepted: [] };
  for (const example of examples) {
    const issues = validate(example.resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    const known = example.file in knownInvalidExamples;
    if (issues.length === 0) {
      result.accepted++;
      if (known) result.unexpectedlyAccepted.push(example.file);
    } else {
      (known ? result.expectedRejections : result.unexplainedRejections).push({ file: example.file, issues });
    }
  }
  return result;
}

/** A rejection cause with quoted values, indices and numbers removed, so one mistake repeated groups together. */
export function causeOf(issue: OperationOutcomeIssue): string {
  const text = (issue.diagnostics ?? '')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\[\d+\]/g, '[]')
    .replace(/\b\d+\b/g, 'N');
  return `${issue.code}: ${text}`;
}

/** Cause -> files having at least one issue with that cause, most frequent first. */
export function groupByCause(rejections: Rejection[]): Array<{ cause: string; files: string[] }> {
  const groups = new Map<string, Set<string>>();
  for (const rejection of rejections) {
    for (const issue of rejection.issues) {
      const cause = causeOf(issue);
      const files = groups.get(cause) ?? new Set<string>();
      files.add(rejection.file);
      groups.set(cause, files);
    }
  }
  return [...groups].map(([cause, files]) => ({ cause, files: [...files] })).sort((a, b) => b.files.length - a.files.length);
}
