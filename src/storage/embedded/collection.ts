/**
 * Query execution over one collection, whichever engine holds it: plans from the indexes (planner.ts), candidates
 * fetched by id and re-checked by the compiled filter, an optional overlay, sort, paging and projection.
 * `Collection` keeps documents and indexes in memory (deep-frozen, handed out without copying); the LMDB engine
 * reads them from its read snapshot (lmdb-collection.ts).
 * Reads may pass an overlay (a transaction's uncommitted writes, by id; null = deleted) that shadows stored
 * documents.
 */
import type { Doc, FindOptions, IndexSpec, SortSpec } from '../port';
import { StorageConflict } from '../port';
import type { CompiledFilter } from './compiled-filter';
import type { IndexView } from './index-view';
import { inOrder } from './ordered-ids';
import { choosePlan, enforcedBy, yieldsInOrder, type Plan } from './planner';
import { compileProjection } from './projection';
import { SecondaryIndex } from './secondary-index';
import { sortDocuments } from './sort';

export { CompiledFilter } from './compiled-filter';

export type Overlay = ReadonlyMap<string, Doc | null>;

/** The read side of a collection: what transactions (transaction.ts) and readers need. */
export abstract class QueryableCollection {
  /** The stored document with this `_id`. */
  /** `once`: a bulk read that should not fill a document cache (FindOptions.readOnce). */
  abstract get(id: string, once?: boolean): Doc | undefined;
  /** Every stored document (a full scan). */
  protected abstract all(): Iterable<Doc>;
  protected abstract indexList(): Iterable<IndexView>;

  get hasUniqueIndex(): boolean {
    for (const index of this.indexList()) if (index.spec.unique) return true;
    return false;
  }

  /** Rejects a write that would put a second document under one key of a unique index. */
  assertUnique(doc: Doc, overlay: Overlay): void {
    for (const index of this.indexList()) {
      if (!index.spec.unique) continue;
      const tuples = index.tuples(doc);
      index.assertUnique(doc, tuples, (id) => overlay.has(id));
      for (const [id, other] of overlay) {
        if (id === doc._id || !other) continue;
        const otherTuples = new Set(index.tuples(other));
        if (tuples.some((t) => otherTuples.has(t))) throw new StorageConflict(`unique index ${index.spec.name} already holds this key (document ${id})`);
      }
    }
  }

  find(filter: CompiledFilter, options: FindOptions = {}, overlay?: Overlay): Doc[] {
    const skip = Math.max(0, options.skip ?? 0);
    const want = options.limit ? skip + Math.abs(options.limit) : Infinity;
    const sort = options.sort && options.sort.length > 0 ? options.sort : undefined;
    const chosen = choosePlan(filter.conjunction, this.indexList(), sort, want).plan;
    const test = filter.residual(enforcedBy(chosen));
    const plan = inIdOrder(chosen, sort, want);
    const presorted = yieldsInOrder(plan);
    const stopAt = sort && !presorted ? Infinity : want;
    const matches: Doc[] = [];
    for (const doc of this.candidates(plan, overlay, options.readOnce)) {
      if (!test(doc)) continue;
      matches.push(doc);
      if (matches.length >= stopAt) break;
    }
    let fromOverlay = 0;
    if (overlay) {
      for (const doc of overlay.values()) {
        if (doc && filter.test(doc)) {
          matches.push(doc);
          fromOverlay++;
        }
      }
    }
    if (sort && (!presorted || fromOverlay > 0)) sortDocuments(matches, sort);
    const page = skip > 0 || want < matches.length ? matches.slice(skip, want) : matches;
    const project = compileProjection(options.projection);
    return project ? page.map(project) : page;
  }

  count(filter: CompiledFilter, limit?: number, overlay?: Overlay): number {
    const { plan } = choosePlan(filter.conjunction, this.indexList(), undefined);
    const test = filter.residual(enforcedBy(plan));
    const cap = limit && limit > 0 ? limit : Infinity;
    let n = 0;
    if (overlay) for (const doc of overlay.values()) if (doc && filter.test(doc)) n++;
    if (n >= cap) return cap;
    for (const doc of this.candidates(plan, overlay)) {
      if (test(doc) && ++n >= cap) break;
    }
    return n;
  }

  private *candidates(plan: Plan, overlay?: Overlay, once?: boolean): Generator<Doc> {
    if (plan.kind === 'scan') {
      for (const doc of this.all()) if (!overlay?.has(doc._id)) yield doc;
      return;
    }
    const seen = repeatsIds(plan) ? new Set<string>() : null;
    for (const id of planIds(plan)) {
      if (seen) {
        if (seen.has(id)) continue;
        seen.add(id);
      }
      if (overlay?.has(id)) continue;
      const doc = this.get(id, once);
      if (doc) yield doc;
    }
  }
}

/** One in-memory collection: documents by `_id` (deep-frozen) plus its secondary indexes. */
export class Collection extends QueryableCollection {
  private readonly docs = new Map<string, Doc>();
  private readonly indexes = new Map<string, SecondaryIndex>();

  get size(): number {
    return this.docs.size;
  }

  get(id: string): Doc | undefined {
    return this.docs.get(id);
  }

  values(): IterableIterator<Doc> {
    return this.docs.values();
  }

  protected all(): Iterable<Doc> {
    return this.docs.values();
  }

  protected indexList(): Iterable<IndexView> {
    return this.indexes.values();
  }

  /** Stores a frozen document, replacing any with the same `_id`. */
  put(doc: Doc): void {
    const old = this.docs.get(doc._id);
    for (const index of this.indexes.values()) {
      if (old) index.remove(old);
      index.add(doc);
    }
    this.docs.set(doc._id, doc);
  }

  delete(id: string): boolean {
    const old = this.docs.get(id);
    if (!old) return false;
    for (const index of this.indexes.values()) index.remove(old);
    this.docs.delete(id);
    return true;
  }

  /** Builds the index unless one with this name and the same definition exists. */
  ensureIndex(spec: IndexSpec): void {
    const existing = this.indexes.get(spec.name);
    if (existing && sameIndex(existing.spec, spec)) return;
    const index = new SecondaryIndex(ownSpec(spec));
    index.load(this.docs.values());
    this.indexes.set(spec.name, index);
  }

  dropIndex(name: string): void {
    this.indexes.delete(name);
  }
}

/** Whether two index definitions are the same (name aside). */
export const sameIndex = (a: IndexSpec, b: IndexSpec): boolean =>
  JSON.stringify(a.keys) === JSON.stringify(b.keys) &&
  !!a.unique === !!b.unique &&
  JSON.stringify(a.sparseOn ?? []) === JSON.stringify(b.sparseOn ?? []) &&
  JSON.stringify(a.only ?? []) === JSON.stringify(b.only ?? []);

/** A copy of what the embedded engine keeps of an index definition. */
export const ownSpec = (spec: IndexSpec): IndexSpec => ({
  name: spec.name,
  keys: spec.keys.map(([p, d]) => [p, d]),
  unique: spec.unique,
  ...(spec.sparseOn?.length ? { sparseOn: [...spec.sparseOn] } : {}),
  ...(spec.only?.length ? { only: spec.only.map(([path, values]): [string, string[]] => [path, [...values]]) } : {}),
});

/**
 * For a page in `_id` order, the candidate ids of a plan that does not yield them in that order are read from
 * the index alone (or taken from the id list) and put in order lazily, repeats dropped as they come out side
 * by side, so documents are fetched and tested in page order and the query stops after its page instead of
 * testing every candidate.
 */
function inIdOrder(plan: Plan, sort: SortSpec | undefined, want: number): Plan {
  if (!sort || sort.length !== 1 || sort[0][0] !== '_id' || want === Infinity) return plan;
  if (plan.kind === 'scan' || yieldsInOrder(plan)) return plan;
  const ids: string[] = [];
  forEachId(plan, (id) => ids.push(id));
  return { kind: 'ids', ids: withoutRepeats(inOrder(ids, sort[0][1] === -1)), sorted: true };
}

/**
 * Whether a plan may yield an id more than once: id lists are de-duplicated when made, and one whole-tuple
 * interval holds each document once (an index key is its tuple followed by the id).
 */
function repeatsIds(plan: Plan): boolean {
  if (plan.kind === 'ids') return false;
  if (plan.kind === 'index') return !(plan.byId && plan.intervals.length === 1);
  if (plan.kind === 'intersect') return repeatsIds(plan.probe);
  if (plan.kind === 'lookup') return repeatsIds(plan.build);
  return true;
}

/** Calls `fn` with every candidate id of `plan` (ids may repeat), reading index entries without iterators. */
function forEachId(plan: Plan, fn: (id: string) => void): void {
  switch (plan.kind) {
    case 'ids':
      for (const id of plan.ids) fn(id);
      return;
    case 'index':
      plan.index.forEachId(plan.intervals, plan.byId === true, fn);
      return;
    case 'union':
      for (const sub of plan.plans) forEachId(sub, fn);
      return;
    default:
      for (const id of planIds(plan)) fn(id);
  }
}

/** An ordered id stream without its repeats (equal ids are adjacent once ordered). */
function* withoutRepeats(ids: Iterable<string>): Generator<string> {
  let previous: string | undefined;
  for (const id of ids) {
    if (id !== previous) yield id;
    previous = id;
  }
}

function* planIds(plan: Plan): Generator<string> {
  switch (plan.kind) {
    case 'ids':
      yield* plan.ids;
      return;
    case 'index':
      yield* plan.byId ? plan.index.scanById(plan.intervals, plan.reverse) : plan.index.scan(plan.intervals, plan.reverse);
      return;
    case 'union':
      for (const sub of plan.plans) yield* planIds(sub);
      return;
    case 'intersect': {
      const members = new Set<string>();
      forEachId(plan.build, (id) => members.add(id));
      const { probe } = plan;
      if (probe.kind === 'index' && probe.intervals.length === 1 && !probe.reverse) {
        yield* probe.index.keptIds(probe.intervals[0], (id) => members.has(id));
        return;
      }
      for (const id of planIds(probe)) if (members.has(id)) yield id;
      return;
    }
    case 'lookup': {
      const { checks } = plan;
      const kept = (id: string): boolean => checks.every((c) => c.intervals.some((interval) => c.index.holds(interval.start, id)));
      for (const id of planIds(plan.build)) if (kept(id)) yield id;
      return;
    }
    case 'scan':
      throw new Error('a full scan has no id list');
  }
}
