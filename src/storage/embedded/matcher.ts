/**
 * Compiles a MongoDB filter of the shapes the search engine emits into a plain predicate, with MongoDB's query
 * semantics (https://www.mongodb.com/docs/manual/reference/operator/query/): equality on a path holding an
 * array matches any element; ranges compare within one type bracket (a string bound never matches a number);
 * `$ne`, `$nin` and `$not` match documents where the path is missing; `$elemMatch` requires one element to
 * satisfy all of its conditions. A filter using anything else (null or document operands, numeric path
 * components, `$options`, `$type`, `$size`, `$expr`, ...) is not compiled: the caller falls back to mingo.
 */
import { isPlainObject } from './values';

export type Predicate = (doc: unknown) => boolean;

type Scalar = string | number | boolean;
type LeafTest = (value: unknown) => boolean;

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The predicate for `filter`, or null when it uses an operator or operand outside the compiled subset. */
export function compileMatcher(filter: unknown): Predicate | null {
  return isPlainObject(filter) ? compileDocument(filter) : null;
}

function compileDocument(query: Record<string, unknown>): Predicate | null {
  const parts: Predicate[] = [];
  for (const key of Object.keys(query)) {
    const part = key.startsWith('$') ? compileLogical(key, query[key]) : compileField(key, query[key]);
    if (!part) return null;
    parts.push(part);
  }
  return allOf(parts);
}

function compileLogical(operator: string, operand: unknown): Predicate | null {
  if (operator !== '$and' && operator !== '$or' && operator !== '$nor') return null;
  if (!Array.isArray(operand) || operand.length === 0) return null;
  const branches: Predicate[] = [];
  for (const branch of operand) {
    const compiled = isPlainObject(branch) ? compileDocument(branch) : null;
    if (!compiled) return null;
    branches.push(compiled);
  }
  if (operator === '$and') return allOf(branches);
  const any = anyOf(branches);
  return operator === '$or' ? any : (doc) => !any(doc);
}

function compileField(path: string, condition: unknown): Predicate | null {
  const segments = pathSegments(path);
  if (!segments) return null;
  if (isScalar(condition)) return anyLeaf(segments, equalTo(condition));
  if (!isPlainObject(condition)) return null;
  return compileOperators(segments, condition);
}

/** `{ $op: operand, ... }` on one path: every operator must hold (each on its own, as in MongoDB). */
function compileOperators(segments: string[], operators: Record<string, unknown>): Predicate | null {
  const keys = Object.keys(operators);
  if (keys.length === 0) return null;
  const parts: Predicate[] = [];
  for (const key of keys) {
    const part = compileOperator(segments, key, operators[key]);
    if (!part) return null;
    parts.push(part);
  }
  return allOf(parts);
}

function compileOperator(segments: string[], operator: string, operand: unknown): Predicate | null {
  switch (operator) {
    case '$eq':
      return isScalar(operand) ? anyLeaf(segments, equalTo(operand)) : null;
    case '$ne':
      return isScalar(operand) ? not(anyLeaf(segments, equalTo(operand))) : null;
    case '$in': {
      const test = memberOf(operand);
      return test ? anyLeaf(segments, test) : null;
    }
    case '$nin': {
      const test = memberOf(operand);
      return test ? not(anyLeaf(segments, test)) : null;
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const test = rangeTest(operator, operand);
      return test ? anyLeaf(segments, test) : null;
    }
    case '$exists':
      return typeof operand === 'boolean' ? (operand ? anyValue(segments) : not(anyValue(segments))) : null;
    case '$regex': {
      const test = regexTest(operand);
      return test ? anyLeaf(segments, test) : null;
    }
    case '$not': {
      const inner = isPlainObject(operand) ? compileOperators(segments, operand) : null;
      return inner ? not(inner) : null;
    }
    case '$elemMatch': {
      if (!isPlainObject(operand) || !isDocumentQuery(operand)) return null;
      const element = compileDocument(operand);
      return element ? anyArray(segments, element) : null;
    }
    default:
      return null;
  }
}

/**
 * Path components, or null for paths the compiled subset leaves to mingo: empty components, numeric ones
 * (which may address array positions) and names an object inherits from Object.prototype.
 */
function pathSegments(path: string): string[] | null {
  let segments = segmentCache.get(path);
  if (segments === undefined) {
    const split = path.split('.');
    const unsafe = split.some((segment) => segment === '' || segment.startsWith('$') || /^\d+$/.test(segment) || segment in Object.prototype);
    segments = unsafe ? null : split;
    if (segmentCache.size >= SEGMENT_CACHE_LIMIT) segmentCache.clear();
    segmentCache.set(path, segments);
  }
  return segments;
}

/** Paths seen recently (a server queries a few hundred distinct paths); segment lists are never mutated. */
const segmentCache = new Map<string, string[] | null>();
const SEGMENT_CACHE_LIMIT = 10_000;

/** `$elemMatch` over documents (field conditions and `$and`/`$or`/`$nor`), not over scalars. */
function isDocumentQuery(query: Record<string, unknown>): boolean {
  const keys = Object.keys(query);
  return keys.length > 0 && keys.every((k) => !k.startsWith('$') || k === '$and' || k === '$or' || k === '$nor');
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function equalTo(operand: Scalar): LeafTest {
  return (value) => value === operand;
}

function memberOf(operand: unknown): LeafTest | null {
  if (!Array.isArray(operand) || !operand.every(isScalar)) return null;
  const members = new Set<unknown>(operand);
  return (value) => members.has(value);
}

/** Comparison within the operand's type bracket (https://www.mongodb.com/docs/manual/reference/method/db.collection.find/#type-bracketing). */
function rangeTest(operator: '$gt' | '$gte' | '$lt' | '$lte', bound: unknown): LeafTest | null {
  if (typeof bound !== 'string' && !(typeof bound === 'number' && Number.isFinite(bound))) return null;
  const type = typeof bound;
  switch (operator) {
    case '$gt':
      return (value) => typeof value === type && (value as string | number) > bound;
    case '$gte':
      return (value) => typeof value === type && (value as string | number) >= bound;
    case '$lt':
      return (value) => typeof value === type && (value as string | number) < bound;
    case '$lte':
      return (value) => typeof value === type && (value as string | number) <= bound;
  }
}

/**
 * A pattern that only spells literal text (metacharacters escaped, optionally anchored, as the search compiler
 * builds from user input) is tested with string comparisons: as fast, and with no size limit, where the
 * regular expression engine refuses very long patterns.
 */
function regexTest(pattern: unknown): LeafTest | null {
  if (typeof pattern !== 'string') return null;
  const literal = literalPattern(pattern);
  if (literal) {
    const { text, start, end } = literal;
    if (start && end) return (value) => value === text;
    if (start) return (value) => typeof value === 'string' && value.startsWith(text);
    if (end) return (value) => typeof value === 'string' && value.endsWith(text);
    return (value) => typeof value === 'string' && value.includes(text);
  }
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
    regex.test('');
  } catch {
    return null;
  }
  return (value) => typeof value === 'string' && regex.test(value);
}

/** Characters with a meaning of their own in a pattern, and those an escape turns into themselves. */
const SPECIAL = new Set('.*+?^${}()|[]\\');
const ESCAPABLE = new Set('.*+?^${}()|[]\\/-');

/** The text a pattern of literal characters and escaped metacharacters matches, with its anchors; else null. */
function literalPattern(pattern: string): { text: string; start: boolean; end: boolean } | null {
  const start = pattern.startsWith('^');
  let text = '';
  let end = false;
  for (let i = start ? 1 : 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined || !ESCAPABLE.has(next)) return null;
      text += next;
    } else if (c === '$' && i === pattern.length - 1) {
      end = true;
    } else if (SPECIAL.has(c)) {
      return null;
    } else {
      text += c;
    }
  }
  return { text, start, end };
}

/** Some value at the path (an array there contributes its elements, not nested arrays) passes `test`. */
function anyLeaf(segments: string[], test: LeafTest): Predicate {
  const last = segments.length;
  const visit = (value: unknown, i: number): boolean => {
    if (i === last) {
      if (!Array.isArray(value)) return test(value);
      for (const element of value) if (test(element)) return true;
      return false;
    }
    return descend(value, segments[i], i + 1, visit);
  };
  return (doc) => visit(doc, 0);
}

/** The path exists: some traversal reaches a value (null included). */
function anyValue(segments: string[]): Predicate {
  const last = segments.length;
  const visit = (value: unknown, i: number): boolean => (i === last ? value !== undefined : descend(value, segments[i], i + 1, visit));
  return (doc) => visit(doc, 0);
}

/**
 * Some array at the path holds a document element satisfying `element`. MongoDB also hands array elements to a
 * document query, as documents keyed "0", "1", ...; with non-numeric paths every field of those is missing.
 */
function anyArray(segments: string[], element: Predicate): Predicate {
  const last = segments.length;
  const visit = (value: unknown, i: number): boolean => {
    if (i === last) {
      if (!Array.isArray(value)) return false;
      for (const item of value) {
        if (Array.isArray(item) ? element(NO_FIELDS) : isPlainObject(item) && element(item)) return true;
      }
      return false;
    }
    return descend(value, segments[i], i + 1, visit);
  };
  return (doc) => visit(doc, 0);
}

/** One path step: into a document's field, or into that field of each document element of an array. */
function descend(value: unknown, field: string, next: number, visit: (value: unknown, i: number) => boolean): boolean {
  if (Array.isArray(value)) {
    for (const element of value) if (isPlainObject(element) && visit(element[field], next)) return true;
    return false;
  }
  return typeof value === 'object' && value !== null ? visit((value as Record<string, unknown>)[field], next) : false;
}

function not(predicate: Predicate): Predicate {
  return (doc) => !predicate(doc);
}

export function allOf(parts: Predicate[]): Predicate {
  if (parts.length === 0) return () => true;
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) {
    const [a, b] = parts;
    return (doc) => a(doc) && b(doc);
  }
  return (doc) => {
    for (const part of parts) if (!part(doc)) return false;
    return true;
  };
}

function anyOf(parts: Predicate[]): Predicate {
  if (parts.length === 1) return parts[0];
  return (doc) => {
    for (const part of parts) if (part(doc)) return true;
    return false;
  };
}
