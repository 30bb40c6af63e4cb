/**
 * Extracts from a MongoDB filter the conditions an index can serve: equality / $in points and
 * $gt/$gte/$lt/$lte ranges on scalar values, top-level $and, $elemMatch (whose conditions hold for one array
 * element) and $or branches. Everything else is left to the full predicate, which always re-checks candidates.
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

/** `ids` numbers the $elemMatch operators across $or branches so that ids never collide. */
export function extractConjunction(filter: Filter, ids: { next: number } = { next: 0 }): Conjunction {
  const out: Conjunction = { conditions: [], ors: [] };
  const visit = (clause: Record<string, unknown>, scope: Scope, topLevel: boolean): void => {
    for (const [key, value] of Object.entries(clause)) {
      if (key === '$and' && Array.isArray(value)) {
        for (const part of value) if (isPlainObject(part)) visit(part, scope, topLevel);
      } else if (key === '$or' && Array.isArray(value) && topLevel) {
        if (value.length > 0 && value.every(isPlainObject)) out.ors.push(value.map((branch) => extractConjunction(branch as Filter, ids)));
      } else if (!key.startsWith('$')) {
        visitField(scope.prefix + key, value, scope);
      }
    }
  };
  const visitField = (path: string, value: unknown, scope: Scope): void => {
    const base = { path, elemPaths: scope.elemPaths, elemIds: scope.elemIds };
    if (isScalar(value)) {
      out.conditions.push({ ...base, points: [value], boundsOnOneValue: false });
      return;
    }
    if (!isPlainObject(value)) return;
    const operators = Object.keys(value);
    if (operators.length === 0 || !operators.every((k) => k.startsWith('$'))) return;
    const range: { lo?: RangeBound; hi?: RangeBound } = {};
    for (const [op, operand] of Object.entries(value)) {
      switch (op) {
        case '$eq':
          if (isScalar(operand)) out.conditions.push({ ...base, points: [operand], boundsOnOneValue: false });
          break;
        case '$in':
          if (Array.isArray(operand) && operand.every(isScalar)) out.conditions.push({ ...base, points: operand, boundsOnOneValue: false });
          break;
        case '$all':
          if (Array.isArray(operand)) {
            for (const v of operand) if (isScalar(v)) out.conditions.push({ ...base, points: [v], boundsOnOneValue: false });
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
    if (range.lo || range.hi) out.conditions.push({ ...base, ...range, boundsOnOneValue: false });
  };
  const visitElemMatch = (path: string, body: Record<string, unknown>, scope: Scope): void => {
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
    visit(body, inner, false);
  };
  visit(filter, { prefix: '', elemPaths: [], elemIds: [] }, true);
  return out;
}
