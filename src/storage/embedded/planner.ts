/**
 * Chooses how to produce candidate documents for a filter: a primary-key lookup, an index scan over the
 * tightest bounds (equality / $in prefix, then one range), a union of index scans for an $or, an ordered index
 * walk that already yields the requested sort order (so sort + limit stops early), an intersection of two index
 * scans read in id order, or a full scan.
 * Bounds only ever widen the candidate set; the compiled filter re-checks every candidate, except for the
 * clauses that exact bounds already guarantee (enforcedBy).
 */
import type { SortSpec } from '../port';
import type { Condition, Conjunction } from './conditions';
import { encodeKeyValue, prefixEnd, typeBracket } from './key-encoding';
import type { IndexView, KeyInterval } from './index-view';

export type Plan =
  | { kind: 'scan' }
  /** Distinct ids. `exact`: conditions every candidate meets (see enforcedBy). */
  | { kind: 'ids'; ids: Iterable<string>; sorted?: boolean; exact?: Condition[] }
  /**
   * `sorted`: candidates come in the requested sort order. `byId`: every interval holds one whole key tuple, so
   * its entries are in id order and the scan merges the intervals by id. `idOrder`: one interval of an index ending
   * in `_id` with every key before it fixed, so the scan yields ids in `_id` order (a keyset page `_id > x` of
   * one type walks [type, _id]). `exact`: see enforcedBy.
   */
  | {
      kind: 'index';
      index: IndexView;
      intervals: KeyInterval[];
      reverse: boolean;
      sorted: boolean;
      byId?: boolean;
      idOrder?: boolean;
      exact?: Condition[];
    }
  | { kind: 'union'; plans: Plan[] }
  /** Ids of `probe` (an id-ordered scan) that `build` also yields, in id order; read from the indexes alone. */
  | { kind: 'intersect'; build: Plan; probe: Plan; sorted: true }
  /**
   * Ids of `build` (one index's whole-tuple intervals) for which every check index holds an entry under one of
   * its whole tuples: a point lookup per id (index key = tuple + id), no document touched. In `build`'s order.
   */
  | { kind: 'lookup'; build: Extract<Plan, { kind: 'index' }>; checks: Array<Extract<Plan, { kind: 'index' }>>; sorted: boolean };

/**
 * Conditions that every candidate of the plan meets, because the plan's index bounds fix them to points and the
 * index holds no entry for a document that fails them (see exactPoints). A clause made only of such conditions
 * need not be tested again (CompiledFilter.residual), as MongoDB skips predicates whose index bounds are exact.
 */
export function enforcedBy(plan: Plan): readonly Condition[] {
  switch (plan.kind) {
    case 'ids':
    case 'index':
      return plan.exact ?? [];
    case 'intersect':
      return [...enforcedBy(plan.build), ...enforcedBy(plan.probe)];
    case 'lookup':
      return [...enforcedBy(plan.build), ...plan.checks.flatMap(enforcedBy)];
    default:
      return [];
  }
}

/** Whether the plan yields its candidates in the order the query asked for. */
export const yieldsInOrder = (plan: Plan): boolean => 'sorted' in plan && plan.sorted === true;

export interface CostedPlan {
  plan: Plan;
  /** For a single-index plan, the conditions its bounds apply. */
  used?: Condition[];
  /** Index entries the plan visits (from range counts capped at COUNT_CAP, see there); Infinity for a full scan. */
  estimate: number;
}

/**
 * A filter plan with this many candidates or more is "large": walking an index in sort order is taken instead.
 * Below it, testing and sorting every candidate (a few ms) is preferred over a walk, whose cost depends on how
 * soon matches turn up and has no such bound.
 */
const ESTIMATE_CAP = 10_000;
/**
 * Range counts stop here: plan costs need counts only up to where a plan is known to lose (a little past
 * ESTIMATE_CAP, where a filter plan counts as large), and a count costs per entry on LMDB (native cursor steps,
 * measured 35–100 ns per entry on this machine depending on load: 12,000 entries ≈ 0.4–1.2 ms; the in-memory
 * B+ tree counts in O(log n) either way). A count that reaches the cap reads as "at least".
 */
export const COUNT_CAP = 12_000;
/** Most equality-prefix combinations ($in × $in ...) turned into separate intervals. */
const MAX_INTERVALS = 512;

/**
 * A walk whose range holds more than this many times the filter plan's candidates is never chosen (bounds the
 * loss when the matches cluster at the far end of the walk).
 */
const MAX_WALK_RATIO = 16;
/** Safety factor on the expected length of a walk, which assumes matches are spread evenly over it. */
const WALK_SAFETY = 4;
/**
 * Fetching and testing one candidate document costs about as much as reading this many index entries (a
 * document spreads over many heap objects; an index entry is one string in a B+ tree leaf). Measured at 1M
 * records: 3–5 µs per document tested in a walk, 0.2–0.3 µs per id read for ordering (ratio 11–18); the value
 * leans towards index-only work, whose cost does not depend on where matches fall in id order.
 */
const DOCUMENT_COST = 32;
/**
 * Range counts are first made with this cap for every candidate plan, then with 8 times it, and so on up to
 * COUNT_CAP, until some plan's range is counted exactly: a count on LMDB costs per entry passed, so a small range
 * (a patient's 86 Observations) is found without first counting a large one (the 9,000 of a code) to the cap.
 */
const FIRST_COUNT_CAP = 64;

/**
 * `want` is skip + limit of the query (Infinity without a limit). Without a sort, the filter plan with the fewest
 * candidates. Sorted by `_id` alone: see idOrderPlan. Otherwise an ordered walk is taken when no filter plan is
 * small, when it visits no more entries than the best filter plan, or when, with matches spread evenly, it reaches
 * `want` matches after far fewer entries (want × walk / candidates) than the filter plan tests and sorts.
 */
export function choosePlan(conj: Conjunction, indexes: Iterable<IndexView>, sort: SortSpec | undefined, want = Infinity): CostedPlan {
  const list = [...indexes];
  let singles: CostedPlan[] | undefined;
  const best = bestFilterPlan(conj, list, () => (singles ??= singleIndexPlans(conj.conditions, list)));
  if (!sort || sort.length === 0) return withLookups(best, singles);
  const walk = bestWalkPlan(conj.conditions, list, sort);
  if (sort.length === 1 && sort[0][0] === '_id') {
    const ordered = idOrdered(best.plan, sort[0][1] === -1);
    if (ordered) return withLookups({ ...best, plan: ordered }, singles);
    if (Number.isFinite(want)) return idOrderPlan(best, singles ?? [], walk, want, sort[0][1] === -1);
  }
  if (!walk || walk.plan.kind !== 'index') return best;
  if (best.estimate >= ESTIMATE_CAP) return walk;
  const walkCap = Math.min(COUNT_CAP, best.estimate * MAX_WALK_RATIO + 1);
  const walkSize = walk.plan.index.countUpTo(walk.plan.intervals, walkCap);
  if (walkSize <= best.estimate) return { plan: walk.plan, estimate: walkSize };
  if (walkSize >= walkCap) return best; // at least the cap: more than MAX_WALK_RATIO times, or too large to tell
  const expectedWalk = (want * walkSize * WALK_SAFETY) / Math.max(1, best.estimate);
  return walkSize <= best.estimate * MAX_WALK_RATIO && expectedWalk <= best.estimate ? { plan: walk.plan, estimate: expectedWalk } : best;
}

/**
 * A page in `_id` order (the order of every search page) from a plan that does not yield ids in order. In order
 * of preference: an intersection of two index scans; the best plan, whose ids Collection.find reads from the
 * index and puts in order before testing documents in page order; or a walk of [type, _id], which tests a
 * document per entry until the page is full, when that is expected to be cheaper.
 */
function idOrderPlan(best: CostedPlan, singles: CostedPlan[], walk: CostedPlan | null, want: number, reverse: boolean): CostedPlan {
  if (best.plan.kind === 'ids' || !walk || walk.plan.kind !== 'index') return best;
  const filterCost = best.estimate + DOCUMENT_COST * Math.min(best.estimate, want);
  // Past walkLosesAt entries the walk costs more than filterCost; past settlesAt the intersection's costs no
  // longer grow with the domain (every min() below saturates), so counting further changes no decision.
  const walkLosesAt = Math.ceil((filterCost / DOCUMENT_COST) * Math.max(1, best.estimate / (WALK_SAFETY * want)));
  // Without a plan to intersect with, only the walk needs the domain: a count up to where the walk loses stays
  // small however many records the type has (counting it to the cap cost ~1 ms per query at 1,000,000).
  const probe = intersectionProbe(best, singles);
  const settlesAt = probe ? Math.ceil((best.estimate * probe.estimate) / Math.max(1, want)) : 0;
  const domain = walk.plan.index.countUpTo(walk.plan.intervals, Math.min(COUNT_CAP, Math.max(walkLosesAt, settlesAt) + 1));
  const intersection = probe ? intersectionPlan(best, probe, domain, want, reverse) : null;
  if (intersection) return intersection;
  const walkCost = DOCUMENT_COST * Math.min(domain, (want * domain * WALK_SAFETY) / Math.max(1, best.estimate));
  return walkCost < filterCost ? { plan: walk.plan, estimate: walkCost } : best;
}

/**
 * A whole-tuple plan whose candidates other whole-tuple plans narrow (they apply a criterion it does not, e.g.
 * `code=` next to `patient=`) checks each candidate id against their indexes by point lookup before any
 * document is fetched: a lookup costs about a microsecond, fetching and parsing a stored document tens of
 * microseconds, so the lookups pay for themselves as soon as they keep one candidate in ten from being fetched,
 * and cost little when they keep almost all (results are the same: the filter still tests every candidate).
 */
function withLookups(best: CostedPlan, singles: CostedPlan[] | undefined): CostedPlan {
  if (best.plan.kind !== 'index' || !best.plan.byId || !singles) return best;
  const checks = narrowingPlans(best, singles).map((p) => p.plan as Extract<Plan, { kind: 'index' }>);
  if (checks.length === 0) return best;
  return { ...best, plan: { kind: 'lookup', build: best.plan, checks, sorted: best.plan.sorted } };
}

/**
 * Index intervals that each fix every key of the index yield their entries in id order (every key ends with the
 * document id), and a merge of them does too: a query sorted by id then stops after its page.
 */
function idOrdered(plan: Plan, reverse: boolean): Plan | null {
  return plan.kind === 'index' && (plan.byId || plan.idOrder) ? { ...plan, reverse, sorted: true } : null;
}

/**
 * Intersection of the best plan with an id-ordered scan of another index (both read from the indexes alone, no
 * document touched), for a page in `_id` order. Taken when cheaper than sorting the best plan's ids and testing
 * documents until the page is full: with matches spread evenly over `domain` entries, that tests about
 * want × domain / probe documents, while the intersection reads about want × domain / build probe entries and
 * tests only the page's documents.
 */
function intersectionPlan(best: CostedPlan, probe: CostedPlan, domain: number, want: number, reverse: boolean): CostedPlan | null {
  if (best.plan.kind !== 'index' || probe.plan.kind !== 'index') return null;
  const build = best.estimate;
  const sortedCost = build + DOCUMENT_COST * Math.min(build, (want * domain) / Math.max(1, probe.estimate));
  const intersectCost = build + Math.min(probe.estimate, (want * domain) / Math.max(1, build)) + DOCUMENT_COST * want;
  if (intersectCost >= sortedCost) return null;
  return { plan: { kind: 'intersect', build: best.plan, probe: { ...probe.plan, reverse, sorted: true }, sorted: true }, estimate: intersectCost };
}

/** The narrowest whole-tuple plan (ids in id order) applying a criterion the best plan does not, if any. */
const intersectionProbe = (best: CostedPlan, singles: CostedPlan[]): CostedPlan | undefined => narrowingPlans(best, singles)[0];

/** Whole-tuple plans that apply a criterion `best` does not, narrowest first. */
function narrowingPlans(best: CostedPlan, singles: CostedPlan[]): CostedPlan[] {
  if (best.plan.kind !== 'index') return [];
  const applied = new Set(best.used?.map(criterionOf));
  return singles
    .filter((p) => p.plan.kind === 'index' && p.plan.byId && p.used?.some((c) => !applied.has(criterionOf(c))))
    .sort((a, b) => a.estimate - b.estimate);
}

/**
 * The criterion a condition belongs to: its outermost $elemMatch (one search parameter's entry), or its own path.
 * A probe that only narrows a criterion the build side already applies (say, adds the token system) would
 * filter little, so it does not count as new.
 */
const criterionOf = (c: Condition): string => (c.elemIds.length ? `#${c.elemIds[0]}` : c.path);

/**
 * One plan per index that the conditions bound, with its number of entries (counted up to the smallest so far);
 * most constrained first.
 * A plan whose bounds apply only some of the conditions another plan applies is left out (typically the many
 * indexes bounded by `type` alone next to one bounded by `type` and a parameter): it is never the narrower one,
 * and counting it costs a descent through a large tree. A whole-tuple plan stays when the one applying more is
 * not whole-tuple, as it may still serve as an intersection probe.
 */
function singleIndexPlans(conditions: Condition[], indexes: IndexView[]): CostedPlan[] {
  const bounded = indexes
    .filter((index) => !index.incomplete)
    .map((index) => ({ index, bounds: boundsFor(index, conditions) }))
    .filter((b): b is { index: IndexView; bounds: Bounds } => b.bounds !== null);
  const dominated = (b: Bounds): boolean =>
    bounded.some(({ bounds: other }) => other.used.length > b.used.length && (other.wholeTuples || !b.wholeTuples) && b.used.every((c) => other.used.includes(c)));
  const kept = bounded.filter(({ bounds }) => !dominated(bounds)).sort((a, b) => b.bounds.constrained - a.bounds.constrained);
  // Counted with growing caps (FIRST_COUNT_CAP) until one range is counted exactly: the others reached the cap,
  // so they cannot be the narrowest, and their estimate is that cap, a lower bound (ties keep the first).
  let estimates: number[] = [];
  // (A lone plan has nothing to lose against: one count, to COUNT_CAP.)
  for (let cap = kept.length > 1 ? Math.min(FIRST_COUNT_CAP, COUNT_CAP) : COUNT_CAP; ; cap = Math.min(cap * 8, COUNT_CAP)) {
    estimates = kept.map(({ index, bounds }) => index.countUpTo(bounds.intervals, cap));
    if (cap >= COUNT_CAP || estimates.some((e) => e < cap)) break;
  }
  return kept.map(({ index, bounds }, i) => ({
    plan: {
      kind: 'index',
      index,
      intervals: bounds.intervals,
      reverse: false,
      sorted: false,
      byId: bounds.wholeTuples,
      idOrder: bounds.intervals.length === 1 && index.paths[index.paths.length - 1] === '_id' && bounds.fixed >= index.paths.length - 1,
      exact: bounds.exact,
    },
    estimate: estimates[i],
    used: bounds.used,
  }));
}

/** `singles`: the single-index plans of `conj.conditions` (computed once, and not at all for an id lookup). */
function bestFilterPlan(conj: Conjunction, indexes: IndexView[], singles = () => singleIndexPlans(conj.conditions, indexes)): CostedPlan {
  const byId = conj.conditions.find((c) => c.path === '_id' && c.points && c.elemPaths.length === 0);
  if (byId?.points) {
    const ids = [...new Set(byId.points.filter((p): p is string => typeof p === 'string'))];
    return { plan: { kind: 'ids', ids, exact: [byId] }, estimate: byId.points.length };
  }

  let best: CostedPlan = { plan: { kind: 'scan' }, estimate: Infinity };
  for (const single of singles()) if (single.estimate < best.estimate) best = single;
  for (const branches of conj.ors) {
    const plans: Plan[] = [];
    let estimate = 0;
    for (const branch of branches) {
      const sub = bestFilterPlan({ conditions: [...conj.conditions, ...branch.conditions], ors: branch.ors }, indexes);
      if (sub.plan.kind === 'scan') {
        estimate = Infinity;
        break;
      }
      plans.push(sub.plan);
      estimate += sub.estimate;
    }
    if (estimate < best.estimate) best = { plan: { kind: 'union', plans }, estimate };
  }
  return best;
}

interface Bounds {
  intervals: KeyInterval[];
  /** Index positions the bounds constrain. */
  constrained: number;
  /** Every position is fixed to a point: each interval holds one whole key tuple. */
  wholeTuples: boolean;
  /** Leading positions fixed to points. */
  fixed: number;
  /** The conditions the bounds apply. */
  used: Condition[];
  /** The conditions the bounds apply exactly (exactPoints). */
  exact: Condition[];
}

/**
 * Tightest bounds on `index` implied by the conditions, or null when its first key is unconstrained. Runs for
 * every index on every query, so it loops rather than allocating filtered lists.
 * A sparse index (IndexSpec.sparseOn) lacks the tuples that are null at one of its sparse paths: it is used only
 * when the bounds constrain every such path. Bounds never admit null (condition points are non-null scalars, and
 * a range stays within its value's type bracket), so no left-out tuple lies within them: the entries read, and
 * their counts, are those of the full index. A partial index (IndexSpec.only) is used only when the bounds fix
 * each of its paths to values it keeps, for the same reason.
 */
function boundsFor(index: IndexView, conditions: Condition[]): Bounds | null {
  const needed = sparseExtent(index);
  const chosen: Array<{ condition: Condition; position: number }> = [];
  let prefixes = [''];
  for (let position = 0; position < index.paths.length; position++) {
    const path = index.paths[position];
    let points: Condition | undefined;
    let range: Condition | undefined;
    for (const c of conditions) {
      if (c.path !== path || !correlatedWithAll(index, chosen, c, position)) continue;
      if (c.points) {
        if (!points || c.points.length < points.points!.length) points = c;
      } else if (!range && (c.lo || c.hi)) {
        range = c;
      }
    }
    if (points?.points) {
      if (prefixes.length * points.points.length > MAX_INTERVALS) break;
      prefixes = extend(prefixes, points);
      chosen.push({ condition: points, position });
      continue;
    }
    if (range) {
      if (needed > position + 1 || !keptByIndex(index, chosen)) return null;
      return {
        intervals: prefixes.map((p) => rangeInterval(p, rangeOf(index, range, position))),
        constrained: position + 1,
        wholeTuples: false,
        fixed: chosen.length,
        used: [...chosen.map((o) => o.condition), range],
        exact: exactPoints(index, chosen),
      };
    }
    break;
  }
  if (chosen.length === 0 || needed > chosen.length || !keptByIndex(index, chosen)) return null;
  return {
    intervals: prefixes.map((p) => ({ start: p, end: prefixEnd(p) })),
    constrained: chosen.length,
    wholeTuples: chosen.length === index.paths.length,
    fixed: chosen.length,
    used: chosen.map((o) => o.condition),
    exact: exactPoints(index, chosen),
  };
}

/** Whether a partial index (IndexSpec.only) holds every entry the chosen points select. */
function keptByIndex(index: IndexView, chosen: Array<{ condition: Condition; position: number }>): boolean {
  for (const [path, values] of index.spec.only ?? []) {
    const position = index.paths.indexOf(path);
    const points = chosen.find((o) => o.position === position)?.condition.points;
    if (!points || !points.every((p) => typeof p === 'string' && values.includes(p))) return false;
  }
  return true;
}

const extents = new WeakMap<IndexView, number>();

/** How many leading positions bounds must constrain to cover every sparse path of the index (0: not sparse). */
function sparseExtent(index: IndexView): number {
  let extent = extents.get(index);
  if (extent === undefined) {
    extent = Math.max(0, ...(index.spec.sparseOn ?? []).map((path) => index.paths.indexOf(path) + 1));
    extents.set(index, extent);
  }
  return extent;
}

function correlatedWithAll(index: IndexView, chosen: Array<{ condition: Condition; position: number }>, c: Condition, position: number): boolean {
  for (const o of chosen) if (!correlated(index, o.condition, o.position, c, position)) return false;
  return true;
}

/**
 * The point conditions whose index entries exist only for documents that meet them: no nested arrays along the
 * path (keys flatten them, MongoDB paths do not descend into them), and every enclosing `$elemMatch` path always
 * held an array (keys index a lone embedded document's fields too; `$elemMatch` never matches it). Equality of
 * encoded keys is equality of values (key-encoding.ts).
 */
function exactPoints(index: IndexView, chosen: Array<{ condition: Condition; position: number }>): Condition[] {
  return chosen
    .filter(({ condition, position }) => {
      const shape = index.shapes[position];
      return !shape.nestedArrays && condition.elemPaths.every((path) => !shape.objectPrefixes.has(path));
    })
    .map((o) => o.condition);
}

/**
 * Ordered walk over an index whose keys, after an equality prefix, are the sort keys. Among several, the one
 * with the longest equality prefix (then a range on the first sort key) narrows the walk most.
 */
function bestWalkPlan(conditions: Condition[], indexes: IndexView[], sort: SortSpec): CostedPlan | null {
  const direction = sort[0][1];
  if (!sort.every(([, d]) => d === direction)) return null;
  let best: { interval: KeyInterval; index: IndexView; score: number } | null = null;
  for (const index of indexes) {
    // A walk reads a key range that must hold every document; a sparse or partial index lacks some.
    if (index.incomplete || sparseExtent(index) > 0 || index.spec.only) continue;
    for (let start = 0; start + sort.length <= index.paths.length; start++) {
      const sortable = sort.every(([path], i) => {
        const shape = index.shapes[start + i];
        return shape.path === path && !shape.multikey && !shape.unordered;
      });
      if (!sortable) continue;
      const chosen: Array<{ condition: Condition; position: number }> = [];
      let prefix = '';
      for (let position = 0; position < start; position++) {
        const single = conditions.find(
          (c) =>
            c.path === index.paths[position] &&
            c.points?.length === 1 &&
            chosen.every((o) => correlated(index, o.condition, o.position, c, position)),
        );
        if (!single) break;
        chosen.push({ condition: single, position });
        prefix += encodeKeyValue(single.points![0]);
      }
      if (chosen.length !== start) continue;
      const range = conditions.find(
        (c) => c.path === index.paths[start] && (c.lo || c.hi) && chosen.every((o) => correlated(index, o.condition, o.position, c, start)),
      );
      const score = start * 2 + (range ? 1 : 0);
      if (best && best.score >= score) continue;
      const interval: KeyInterval = range
        ? rangeInterval(prefix, rangeOf(index, range, start))
        : { start: prefix, end: prefix === '' ? null : prefixEnd(prefix) };
      best = { interval, index, score };
    }
  }
  if (!best) return null;
  return {
    plan: { kind: 'index', index: best.index, intervals: [best.interval], reverse: direction === -1, sorted: true },
    estimate: ESTIMATE_CAP,
  };
}

/**
 * Whether conditions on two index positions may bound one key together: every array the two paths share must
 * be an array whose element both conditions address through one common $elemMatch (or an array above it).
 */
function correlated(index: IndexView, a: Condition, aPosition: number, b: Condition, bPosition: number): boolean {
  const bPrefixes = index.shapes[bPosition].arrayPrefixes;
  let anchor: string | undefined;
  for (const shared of index.shapes[aPosition].arrayPrefixes) {
    if (!bPrefixes.has(shared)) continue;
    if (anchor === undefined) {
      let depth = 0;
      while (depth < a.elemIds.length && depth < b.elemIds.length && a.elemIds[depth] === b.elemIds[depth]) depth++;
      anchor = depth > 0 ? a.elemPaths[depth - 1] : '';
    }
    if (!covers(anchor, shared)) return false;
  }
  return true;
}

const covers = (anchor: string, arrayPath: string): boolean => anchor === arrayPath || anchor.startsWith(arrayPath + '.');

/** The range to use: both bounds only when one value must satisfy both (no array splits them). */
function rangeOf(index: IndexView, c: Condition, position: number): Pick<Condition, 'lo' | 'hi'> {
  if (!c.lo || !c.hi) return { lo: c.lo, hi: c.hi };
  const anchor = c.boundsOnOneValue ? c.path : (c.elemPaths[c.elemPaths.length - 1] ?? '');
  const oneValue = [...index.shapes[position].arrayPrefixes].every((p) => covers(anchor, p));
  return oneValue ? { lo: c.lo, hi: c.hi } : { lo: c.lo };
}

function rangeInterval(prefix: string, { lo, hi }: Pick<Condition, 'lo' | 'hi'>): KeyInterval {
  const bracket = typeBracket((lo ?? hi)!.value);
  const start = lo ? (lo.inclusive ? prefix + encodeKeyValue(lo.value) : prefixEnd(prefix + encodeKeyValue(lo.value))) : prefix + bracket.start;
  const end = hi ? (hi.inclusive ? prefixEnd(prefix + encodeKeyValue(hi.value)) : prefix + encodeKeyValue(hi.value)) : prefix + bracket.end;
  return { start, end };
}

/**
 * Each prefix followed by each point of `condition`, in key order: both lists are sorted and encoded values are
 * self-delimiting, so the nested loop yields sorted keys.
 */
function extend(prefixes: string[], condition: Condition): string[] {
  const encoded = (condition.encoded ??= [...new Set(condition.points!.map(encodeKeyValue))].sort());
  if (prefixes.length === 1 && prefixes[0] === '') return encoded;
  const out: string[] = [];
  for (const p of prefixes) for (const e of encoded) out.push(p + e);
  return out;
}
