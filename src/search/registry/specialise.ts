/**
 * Per-resource-type specialisation of SearchParameter expressions (https://hl7.org/fhir/R4/searchparameter-registry.html).
 * Shared parameters such as `clinical-code` list one union branch per resource type; evaluating only the branch
 * for the resource at hand is an order of magnitude cheaper than the whole union. `resolve() is T` filters are
 * rewritten into tests on the reference itself so nothing is ever resolved while indexing.
 */

const RESOURCE_LEVEL_ROOTS = new Set(['Resource', 'DomainResource']);

/** Splits `a | (b | c).d | e` at the top-level `|` only (outside parentheses, brackets and string literals). */
export function splitTopLevelUnion(expression: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (ch === '|' && depth === 0) {
      branches.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  branches.push(expression.slice(start).trim());
  return branches.filter((b) => b.length > 0);
}

/** True when the whole text is one parenthesised group, e.g. `(A.b as C)` but not `(A) | (B)`. */
function isWrappedInParens(text: string): boolean {
  if (!text.startsWith('(') || !text.endsWith(')')) return false;
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0 && i < text.length - 1) return false;
    }
  }
  return depth === 0;
}

/** The resource type a branch starts from (`(DeviceRequest.code as CodeableConcept)` -> `DeviceRequest`), if plain. */
export function branchRoot(branch: string): string | undefined {
  let text = branch.trim();
  while (isWrappedInParens(text)) text = text.slice(1, -1).trim();
  const match = /^([A-Z][A-Za-z0-9]*)(?=$|[.\s])/.exec(text);
  return match?.[1];
}

/** FHIRPath that keeps a Reference when it points at `type`, without resolving it (relative, absolute, or Reference.type). */
export function referenceTypeTest(type: string): string {
  return `reference.startsWith('${type}/') or reference.contains('/${type}/') or type = '${type}'`;
}

/**
 * Rewrites what the indexer must not or cannot evaluate:
 * - `.where(resolve() is T)` becomes a test on the reference string/type;
 * - type casts `(X as T)` and `X.as(T)` become `X.ofType(T)`: R4 expressions apply them to collections
 *   (`Observation.component.value as Quantity`), where FHIRPath's `as` demands a singleton, while a type filter is
 *   what search means;
 * - the `DateTime` spelling of one R4 composite component becomes the FHIR type `dateTime`.
 */
export function rewriteForIndexing(expression: string): string {
  return expression
    .replace(/\.where\(\s*resolve\(\)\s+is\s+([A-Z][A-Za-z0-9]*)\s*\)/g, (_m, type: string) => `.where(${referenceTypeTest(type)})`)
    .replace(/\(\s*([^()|]+?)\s+as\s+([A-Za-z][A-Za-z0-9]*)\s*\)/g, (_m, path: string, type: string) => `${path}.ofType(${type})`)
    .replace(/\.as\(\s*([A-Za-z][A-Za-z0-9]*)\s*\)/g, (_m, type: string) => `.ofType(${type})`)
    .replace(/\bofType\(DateTime\)/g, 'ofType(dateTime)');
}

/**
 * The expression to evaluate on resources of `resourceType`: the union branches rooted at that type (or at
 * Resource/DomainResource), rewritten for indexing. Falls back to the whole (rewritten) expression when a
 * branch has no plain root or no branch names the type, which is always correct, only slower.
 */
export function specialiseExpression(expression: string, resourceType: string): string {
  const branches = splitTopLevelUnion(expression);
  const roots = branches.map(branchRoot);
  if (roots.some((root) => root === undefined)) return rewriteForIndexing(expression);
  const own = branches.filter((_b, i) => roots[i] === resourceType || RESOURCE_LEVEL_ROOTS.has(roots[i] as string));
  if (own.length === 0) return rewriteForIndexing(expression);
  return rewriteForIndexing(own.join(' | '));
}
