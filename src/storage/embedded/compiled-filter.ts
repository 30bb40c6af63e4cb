/**
 * A filter compiled once per call: the predicate that re-checks candidates and the planner's view of it.
 * The predicate is a plain function (./matcher.ts) when every operator is in the compiled subset, a mingo
 * `Query` otherwise.
 * A filter that is only an `_id` equality or `$in` of strings (reads by id, the most frequent query) is
 * answered by a set lookup, without compiling a mingo query
 * (https://www.mongodb.com/docs/manual/reference/operator/query/in/).
 */
import { Query } from 'mingo';
import type { Doc, Filter } from '../port';
import { extractConjunction, type Conjunction } from './conditions';
import { compileMatcher, type Predicate } from './matcher';
import { isPlainObject } from './values';

export class CompiledFilter {
  readonly conjunction: Conjunction;
  private readonly predicate: Predicate | null;
  /** The ids of a filter that is only an `_id` equality or `$in`; null otherwise. */
  readonly ids: ReadonlySet<string> | null;
  /** Whether candidates are re-checked by the compiled predicate rather than by mingo. */
  readonly compiled: boolean = true;

  constructor(filter: Filter) {
    const ids = idsOnly(filter);
    if (ids) {
      this.ids = new Set(ids);
      this.predicate = null;
      this.conjunction = { conditions: [{ path: '_id', elemPaths: [], elemIds: [], points: ids, boundsOnOneValue: false }], ors: [] };
      return;
    }
    this.ids = null;
    const compiled = compileMatcher(filter);
    this.compiled = compiled !== null;
    if (compiled) this.predicate = compiled;
    else {
      const query = new Query(filter);
      this.predicate = (doc) => query.test(doc as Doc);
    }
    this.conjunction = extractConjunction(filter);
  }

  test(doc: Doc): boolean {
    return this.ids ? this.ids.has(doc._id) : this.predicate!(doc);
  }
}

/** The ids of `{_id: s}`, `{_id: {$eq: s}}` or `{_id: {$in: [s, ...]}}` with string operands; otherwise null. */
function idsOnly(filter: Filter): string[] | null {
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return null;
  const value = filter._id;
  if (typeof value === 'string') return [value];
  if (!isPlainObject(value)) return null;
  const operators = Object.keys(value);
  if (operators.length !== 1) return null;
  const operand = value[operators[0]];
  if (operators[0] === '$eq' && typeof operand === 'string') return [operand];
  if (operators[0] === '$in' && Array.isArray(operand) && operand.every((v) => typeof v === 'string')) return operand as string[];
  return null;
}
