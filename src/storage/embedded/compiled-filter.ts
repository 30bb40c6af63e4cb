/**
 * A filter compiled once per call: the predicate that re-checks candidates and the planner's view of it.
 * Each top-level clause is compiled on its own, to a plain function (./matcher.ts) when every operator is in
 * the compiled subset, to a mingo `Query` otherwise, so that candidates from exact index bounds are tested only
 * against the clauses those bounds do not already guarantee (residual).
 * A filter that is only an `_id` equality or `$in` of strings (reads by id, the most frequent query) is
 * answered by a set lookup, without compiling a mingo query
 * (https://www.mongodb.com/docs/manual/reference/operator/query/in/).
 */
import { Query } from 'mingo';
import type { Doc, Filter } from '../port';
import { extractConjunction, isExactClause, newCondition, topLevelClauses, type Condition, type Conjunction } from './conditions';
import { allOf, compileMatcher, type Predicate } from './matcher';
import { isPlainObject } from './values';

interface Clause {
  test: Predicate;
  /** The clause holds for any document whose index entries meet its conditions as points (isExactClause). */
  exact: boolean;
}

/**
 * Compiled `$or` / `$nor` clauses by their operand array: a filter part reused across queries (the access filter
 * of a token, decided once and ANDed into every query of its requests) is compiled once, not per query. Query
 * documents are not changed once they have been used, so the operand's identity stands for its content.
 */
const LOGICAL_CLAUSES = new WeakMap<object, Map<string, { clause: Clause; compiled: boolean }>>();

function cachedClause(clause: Filter): { clause: Clause; compiled: boolean } | undefined {
  const [key] = Object.keys(clause);
  const operand = key === '$or' || key === '$nor' ? clause[key] : undefined;
  return Array.isArray(operand) ? LOGICAL_CLAUSES.get(operand)?.get(key as string) : undefined;
}

function rememberClause(clause: Filter, compiled: Clause, plain: boolean): Clause {
  const [key] = Object.keys(clause);
  const operand = key === '$or' || key === '$nor' ? clause[key] : undefined;
  if (Array.isArray(operand)) {
    const byKey = LOGICAL_CLAUSES.get(operand) ?? new Map<string, { clause: Clause; compiled: boolean }>();
    byKey.set(key as string, { clause: compiled, compiled: plain });
    LOGICAL_CLAUSES.set(operand, byKey);
  }
  return compiled;
}

export class CompiledFilter {
  readonly conjunction: Conjunction;
  private readonly clauses: Clause[];
  private readonly predicate: Predicate;
  /** The ids of a filter that is only an `_id` equality or `$in`; null otherwise. */
  readonly ids: ReadonlySet<string> | null;
  /** Whether candidates are re-checked by compiled predicates only, without mingo. */
  readonly compiled: boolean;

  constructor(filter: Filter) {
    const ids = idsOnly(filter);
    if (ids) {
      const set = new Set(ids);
      this.ids = set;
      this.predicate = (doc) => set.has((doc as Doc)._id);
      this.clauses = [{ test: this.predicate, exact: true }];
      this.compiled = true;
      this.conjunction = { conditions: [newCondition('_id', { elemPaths: [], elemIds: [] }, 0, { points: ids })], ors: [] };
      return;
    }
    this.ids = null;
    let compiledAll = true;
    const clauses = topLevelClauses(filter);
    this.clauses = clauses.map((clause) => {
      const cached = cachedClause(clause);
      if (cached) {
        if (!cached.compiled) compiledAll = false;
        return cached.clause;
      }
      const compiled = compileMatcher(clause);
      if (compiled) return rememberClause(clause, { test: compiled, exact: isExactClause(clause) }, true);
      compiledAll = false;
      const query = new Query(clause);
      return rememberClause(clause, { test: (doc) => query.test(doc as Doc), exact: false }, false);
    });
    this.compiled = compiledAll;
    this.predicate = allOf(this.clauses.map((c) => c.test));
    this.conjunction = extractConjunction(filter, undefined, clauses);
  }

  test(doc: Doc): boolean {
    return this.predicate(doc);
  }

  /**
   * The predicate left for candidates that are known to meet `enforced` (planner.ts, enforcedBy): the clauses
   * of which some condition is not enforced, or that are not exact.
   */
  residual(enforced: readonly Condition[]): Predicate {
    if (enforced.length === 0) return this.predicate;
    const met = new Set(enforced);
    const unmet = new Set<number>();
    const covered = new Set<number>();
    for (const condition of this.conjunction.conditions) {
      if (condition.clause < 0) continue;
      (met.has(condition) ? covered : unmet).add(condition.clause);
    }
    const left = this.clauses.filter((clause, i) => !(clause.exact && covered.has(i) && !unmet.has(i)));
    return left.length === this.clauses.length ? this.predicate : allOf(left.map((c) => c.test));
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
