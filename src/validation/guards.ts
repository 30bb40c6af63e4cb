/**
 * Safety checks on any parsed JSON body before deeper processing: prototype-polluting keys and size limits that
 * would otherwise let one request exhaust the stack or the CPU. Iterative, so nesting depth cannot overflow it.
 * Issue codes from https://hl7.org/fhir/R4/valueset-issue-type.html.
 */
import type { OperationOutcomeIssue } from '../core/outcome';

export interface JsonSafetyLimits {
  /** Deepest allowed nesting of objects and arrays (the root is depth 1). */
  maxDepth?: number;
  maxArrayLength?: number;
  /** Most keys allowed in one object. */
  maxKeys?: number;
}

export const DEFAULT_JSON_LIMITS: Readonly<Required<JsonSafetyLimits>> = { maxDepth: 64, maxArrayLength: 50_000, maxKeys: 1_000 };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Stop after this many issues: the body is rejected anyway, and the outcome must stay small. */
const MAX_ISSUES = 20;

/**
 * Every problem (up to 20) with a parsed JSON value; [] when it is safe to process. Expressions are FHIRPath-like
 * paths from the root, prefixed with the root's resourceType when it has one.
 */
export function checkJsonSafety(value: unknown, limits: JsonSafetyLimits = {}): OperationOutcomeIssue[] {
  const resolved = { ...DEFAULT_JSON_LIMITS, ...limits };
  // The common case is a safe body: a lean pass decides, and paths are only tracked when there is something to report.
  return isSafe(value, resolved) ? [] : locateProblems(value, resolved);
}

function isSafe(value: unknown, { maxDepth, maxArrayLength, maxKeys }: Required<JsonSafetyLimits>): boolean {
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  while (nodes.length) {
    const node = nodes.pop();
    const depth = depths.pop() as number;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) return false;
    if (Array.isArray(node)) {
      if (node.length > maxArrayLength) return false;
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (typeof item === 'object' && item !== null) {
          nodes.push(item);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    let count = 0;
    for (const key in node) {
      if (++count > maxKeys || FORBIDDEN_KEYS.has(key)) return false;
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return true;
}

interface Frame {
  node: unknown;
  depth: number;
  path: string;
}

function locateProblems(value: unknown, { maxDepth, maxArrayLength, maxKeys }: Required<JsonSafetyLimits>): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const root = (value as { resourceType?: unknown } | null)?.resourceType;
  const stack: Frame[] = [{ node: value, depth: 1, path: typeof root === 'string' ? root : '' }];
  while (stack.length && issues.length < MAX_ISSUES) {
    const { node, depth, path } = stack.pop() as Frame;
    if (typeof node !== 'object' || node === null) continue;
    const where = path || 'the root';
    if (depth > maxDepth) {
      issues.push(problem('too-costly', path, `JSON nesting deeper than ${maxDepth} levels at ${where}`));
      continue;
    }
    if (Array.isArray(node)) {
      if (node.length > maxArrayLength) {
        issues.push(problem('too-costly', path, `Array of ${node.length} items at ${where} exceeds the limit of ${maxArrayLength}`));
        continue;
      }
      for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    const keys = Object.keys(node);
    if (keys.length > maxKeys) {
      issues.push(problem('too-costly', path, `Object with ${keys.length} keys at ${where} exceeds the limit of ${maxKeys}`));
      continue;
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const childPath = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) issues.push(problem('security', childPath, `The key '${key}' is not allowed in JSON content`));
      else stack.push({ node: (node as Record<string, unknown>)[key], depth: depth + 1, path: childPath });
    }
  }
  return issues;
}

function problem(code: OperationOutcomeIssue['code'], path: string, diagnostics: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, ...(path ? { expression: [path] } : {}) };
}
