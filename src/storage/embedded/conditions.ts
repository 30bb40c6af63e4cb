/**
 * Extracts from a MongoDB filter the conditions an index can serve: equality / $in points and
 * $gt/$gte/$lt/$lte ranges on scalar values, top-level $and, $elemMatch (whose conditions hold for one array
 * element) and $or branches. Everything else is left to the predicate, which re-checks candidates (all but the
 * clauses exact index bounds guarantee, see isExactClause).
 */
import type { Filter } from '../port';
import { isPlainObject, typeRank } from './values';

export type Scalar = string | number | boolean;

export interface RangeBound {
  value: string | number;
  inclusive: boolean;
}

export interface Condition {
  path: string;
  /** Paths of the enclosing $elemMatch operators, outermost first. Conditions met within one element correlate. */
  elemPaths: string[];
  /** Ids of the enclosing $elemMatch operators, parallel to elemPaths. */
  elemIds: number[];
  /** Equality to any of these values (empty: matches nothing). */
  points?: Scalar[];
  lo?: RangeBound;
  hi?: RangeBound;
  /** Both range bounds apply to the same value even when the path holds an array ($elemMatch over scalars). */
  boundsOnOneValue: boolean;
  /** Position of the top-level clause (see topLevelClauses) the condition comes from; -1 inside an $or. */
  clause: number;
  /** `points` encoded as index keys, distinct and sorted; filled by the planner on first use. */
  encoded?: string[];
}

/**
 * A condition with every field present, so that all conditions share one object shape (the planner reads them
 * for every index on every query).
 */
export function newCondition(
  path: string,
  scope: { elemPaths: string[]; elemIds: number[] },
  clause: number,
  bounds: Pick<Condition, 'points' | 'lo' | 'hi'>,
): Condition {
  return {
    path,
    elemPaths: scope.elemPaths,
    elemIds: scope.elemIds,
    points: bounds.points,
    lo: bounds.lo,
    hi: bounds.hi,
    boundsOnOneValue: false,
    clause,
    encoded: undefined,
  };
}

export interface Conjunction {
  conditions: Condition[];
  /** Each entry is one $or: its branches, already extracted. */
  ors: Conjunction[][];
}

interface Scope {
  prefix: string;
  elemPaths: string[];
  elemIds: number[];
}

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && !Number.isNaN(v));
const isRangeValue = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && !Number.isNaN(v));

/**
 * The clauses a filter is the conjunction of: its fields, one `{field: condition}` each, with top-level `$and`
 * operands flattened in, and each other top-level operator (`$or`, ...) as one clause.
 */
export function topLevelClauses(filter: Filter): Filter[] {
  const out: Filter[] = [];
  const visit = (part: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(part)) {
      if (key === '$and' && Array.isArray(value) && value.every(isPlainObject)) for (const operand of value) visit(operand);
      else out.push({ [key]: value });
    }
  };
  visit(filter);
  return out;
}

/**
 * Whether a clause holds exactly for the documents whose index entries satisfy its conditions as points:
 * `{path: scalar}`, `{path: {$eq: scalar}}`, `{path: {$in: [scalar, ...]}}`, or `{path: {$elemMatch: {...}}}`
 * whose fields are all such equalities. The planner adds what the index itself must guarantee (see
 * planner.ts, exactPoints).
 */
export function isExactClause(clause: Filter): boolean {
  const [path, ...more] = Object.keys(clause);
  if (path === undefined || more.length > 0 || path.startsWith('$')) return false;
  const value = clause[path];
  if (isPlainObject(value) && Object.keys(value).length === 1 && isPlainObject(value.$elemMatch)) {
    const fields = Object.entries(value.$elemMatch);
    return fields.length > 0 && fields.every(([field, condition]) => !field.startsWith('$') && isEquality(condition));
  }
  return isEquality(value);
}

function isEquality(condition: unknown): boolean {
  if (isScalar(condition)) return true;
  if (!isPlainObject(condition)) return false;
  const operators = Object.keys(condition);
  if (operators.length !== 1) return false;
  const operand = condition[operators[0]];
  return (operators[0] === '$eq' && isScalar(operand)) || (operators[0] === '$in' && Array.isArray(operand) && operand.every(isScalar));
}

/**
 * `ids` numbers the $elemMatch operators across $or branches so that ids never collide. Conditions are tagged
 * with the position of their clause in `clauses`, topLevelClauses(filter).
 */
export function extractConjunction(filter: Filter, ids: { next: number } = { next: 0 }, clauses = topLevelClauses(filter)): Conjunction {
  const out: Conjunction = { conditions: [], ors: [] };
  let clause = -1;
  clauses.forEach((part, position) => {
    clause = position;
    const [key] = Object.keys(part);
    const value = part[key];
    if (key === '$or') {
      if (Array.isArray(value) && value.length > 0 && value.every(isPlainObject)) {
        out.ors.push(value.map((branch) => withoutClauses(extractConjunction(branch as Filter, ids))));
      }
    } else if (!key.startsWith('$')) {
      visitField(key, value, { prefix: '', elemPaths: [], elemIds: [] });
    }
  });
  return out;

  function visit(part: Record<string, unknown>, scope: Scope): void {
    for (const [key, value] of Object.entries(part)) {
      if (key === '$and' && Array.isArray(value)) {
        for (const operand of value) if (isPlainObject(operand)) visit(operand, scope);
      } else if (!key.startsWith('$')) {
        visitField(scope.prefix + key, value, scope);
      }
    }
  }
  function visitField(path: string, value: unknown, scope: Scope): void {
    if (isScalar(value)) {
      out.conditions.push(newCondition(path, scope, clause, { points: [value] }));
      return;
    }
    if (!isPlainObject(value)) return;
    const operators = Object.keys(value);
    if (operators.length === 0 || !operators.every((k) => k.startsWith('$'))) return;
    const range: { lo?: RangeBound; hi?: RangeBound } = {};
    for (const [op, operand] of Object.entries(value)) {
      switch (op) {
        case '$eq':
          if (isScalar(operand)) out.conditions.push(newCondition(path, scope, clause, { points: [operand] }));
          break;
        case '$in':
          if (Array.isArray(operand) && operand.every(isScalar)) out.conditions.push(newCondition(path, scope, clause, { points: operand }));
          break;
        case '$all':
          if (Array.isArray(operand)) {
            for (const v of operand) if (isScalar(v)) out.conditions.push(newCondition(path, scope, clause, { points: [v] }));
          }
          break;
        case '$gt':
        case '$gte':
          if (isRangeValue(operand)) range.lo = { value: operand, inclusive: op === '$gte' };
          break;
        case '$lt':
        case '$lte':
          if (isRangeValue(operand)) range.hi = { value: operand, inclusive: op === '$lte' };
          break;
        case '$elemMatch':
          if (isPlainObject(operand)) visitElemMatch(path, operand, scope);
          break;
        default:
          break;
      }
    }
    if (range.lo && range.hi && typeRank(range.lo.value) !== typeRank(range.hi.value)) delete range.hi;
    if (range.lo || range.hi) out.conditions.push(newCondition(path, scope, clause, range));
  }
  function visitElemMatch(path: string, body: Record<string, unknown>, scope: Scope): void {
    const inner: Scope = {
      prefix: path + '.',
      elemPaths: [...scope.elemPaths, path],
      elemIds: [...scope.elemIds, ids.next++],
    };
    const keys = Object.keys(body);
    if (keys.length > 0 && keys.every((k) => k.startsWith('$') && k !== '$and' && k !== '$or' && k !== '$nor')) {
      const before = out.conditions.length;
      visitField(path, body, { ...inner, prefix: '' });
      for (let i = before; i < out.conditions.length; i++) out.conditions[i].boundsOnOneValue = true;
      return;
    }
    visit(body, inner);
  }
}

/** An $or branch's conditions belong to no top-level clause. */
function withoutClauses(conj: Conjunction): Conjunction {
  for (const condition of conj.conditions) condition.clause = -1;
  return conj;
}
