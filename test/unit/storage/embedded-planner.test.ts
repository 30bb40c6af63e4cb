/**
 * The embedded engine's index planner: selective queries of the search engine's shapes are served by an index
 * (so their cost follows the candidates, not the collection), sort + limit walks an ordered index, and $or
 * unions index scans.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Collection, CompiledFilter } from '../../../src/storage/embedded/collection';
import type { IndexView, KeyInterval } from '../../../src/storage/embedded/index-view';
import { choosePlan, enforcedBy, type Plan } from '../../../src/storage/embedded/planner';
import type { Doc, Filter, SortSpec } from '../../../src/storage/port';
import { RESOURCE_INDEXES, generateResources } from '../../contract/random-resources';

const HISTORY_INDEXES = [
  { name: 'lastUpdated', keys: [['lastUpdated', -1]] as SortSpec },
  { name: 'type_lastUpdated', keys: [['type', 1], ['lastUpdated', -1]] as SortSpec },
  { name: 'type_id_version', keys: [['type', 1], ['id', 1], ['versionId', -1]] as SortSpec },
];

function collectionWith(docs: Doc[], indexes = RESOURCE_INDEXES): Collection {
  const collection = new Collection();
  for (const spec of indexes) collection.ensureIndex(spec);
  for (const doc of docs) collection.put(Object.freeze(doc));
  return collection;
}

function planFor(collection: Collection, filter: Filter | CompiledFilter, sort?: SortSpec): Plan {
  const indexes = (collection as unknown as { indexes: Map<string, never> }).indexes.values();
  const compiled = filter instanceof CompiledFilter ? filter : new CompiledFilter(filter);
  return choosePlan(compiled.conjunction, indexes, sort).plan;
}

/** A filter that counts the candidate documents find() tests (with whatever predicate the plan leaves). */
function countingTests(filter: CompiledFilter): { counting: CompiledFilter; tested: () => number } {
  let n = 0;
  const counting = Object.assign(Object.create(filter) as CompiledFilter, {
    residual: (enforced: Parameters<CompiledFilter['residual']>[0]) => {
      const predicate = filter.residual(enforced);
      return (doc: unknown) => (n++, predicate(doc));
    },
  });
  return { counting, tested: () => n };
}

/** The index whose entries produce the candidates (for a lookup plan, the one its ids come from). */
const indexName = (plan: Plan): string | undefined => (plan.kind === 'index' ? plan.index.spec.name : plan.kind === 'lookup' ? plan.build.index.spec.name : undefined);

describe('embedded index planner', () => {
  const resources = collectionWith(generateResources(3000, 1));

  it('serves a token $elemMatch on system and code from the [type, idx.tok.p, idx.tok.c] index', () => {
    const filter = { type: 'Observation', deleted: false, 'idx.tok': { $elemMatch: { p: 'code', c: '1234-5', s: 'http://loinc.org' } } };
    const plan = planFor(resources, filter);
    assert.equal(indexName(plan), 'type_tok');
    assert.equal(plan.kind === 'index' && plan.intervals.length, 1);
  });

  it('serves a string prefix range after the parameter-code equality', () => {
    const filter = { type: 'Patient', 'idx.str': { $elemMatch: { p: 'name', v: { $gte: 'smi', $lt: 'smj' } } } };
    assert.equal(indexName(planFor(resources, filter)), 'type_str');
  });

  it('serves a date range on the [type, idx.date.p, idx.date.lo] index', () => {
    const filter = { type: 'Encounter', 'idx.date': { $elemMatch: { p: 'date', lo: { $gte: '2020-03-01T00:00:00.000Z', $lt: '2020-03-08T00:00:00.000Z' } } } };
    assert.equal(indexName(planFor(resources, filter)), 'type_date');
  });

  it('unions index scans when every $or branch is indexable, and scans when one is not', () => {
    const indexable = { type: 'Observation', $or: [{ 'idx.tok': { $elemMatch: { p: 'code', c: 'final' } } }, { 'idx.ref': { $elemMatch: { p: 'subject', r: 'Patient/p1' } } }] };
    const union = planFor(resources, indexable);
    assert.equal(union.kind, 'union');
    assert.deepEqual(union.kind === 'union' && union.plans.map(indexName), ['type_tok', 'type_ref']);
    const mixed = { $or: [{ 'idx.tok': { $elemMatch: { p: 'code', c: 'final' } } }, { deleted: true }] };
    assert.equal(planFor(resources, mixed).kind, 'scan');
  });

  it('picks the most selective of several usable indexes', () => {
    const filter = { type: 'Observation', compartments: 'Patient/p3', 'idx.tok': { $elemMatch: { p: 'code', c: { $in: ['1234-5', '789-8'] } } } };
    const plan = planFor(resources, filter);
    assert.equal(indexName(plan), 'compartments_type');
  });

  it('walks [type, lastUpdated] backwards for the newest resources of a type', () => {
    const plan = planFor(resources, { type: 'Patient', deleted: false }, [['lastUpdated', -1]]);
    assert.equal(indexName(plan), 'type_lastUpdated');
    assert.ok(plan.kind === 'index' && plan.sorted && plan.reverse);
  });

  it('walks the history indexes for system-, type- and instance-level history', () => {
    const history = collectionWith(
      Array.from({ length: 2000 }, (_, i) => ({
        _id: `Patient/p${i % 50}/${Math.floor(i / 50) + 1}`,
        type: i % 2 ? 'Patient' : 'Observation',
        id: `p${i % 50}`,
        versionId: Math.floor(i / 50) + 1,
        lastUpdated: new Date(1_600_000_000_000 + i * 1000).toISOString(),
      })),
      HISTORY_INDEXES,
    );
    assert.equal(indexName(planFor(history, {}, [['lastUpdated', -1]])), 'lastUpdated');
    assert.equal(indexName(planFor(history, { type: 'Patient' }, [['lastUpdated', -1]])), 'type_lastUpdated');
    assert.equal(indexName(planFor(history, { type: 'Patient', id: 'p7' }, [['versionId', -1]])), 'type_id_version');
    const newest = history.find(new CompiledFilter({ type: 'Patient', lastUpdated: { $lt: '2020-09-13T12:27:00.000Z' } }), { sort: [['lastUpdated', -1]], limit: 2 });
    assert.deepEqual(newest.map((d) => d.lastUpdated), ['2020-09-13T12:26:59.000Z', '2020-09-13T12:26:57.000Z']);
  });

  it('does not combine conditions on one array that different elements may satisfy', () => {
    const collection = collectionWith([{ _id: 'x', type: 'T', idx: { tok: [{ p: 'code', c: 'a' }, { p: 'other', c: 'b' }] } }]);
    const filter = new CompiledFilter({ type: 'T', 'idx.tok.p': 'code', 'idx.tok.c': 'b' });
    assert.deepEqual(collection.find(filter).map((d) => d._id), ['x']);
    const spread = collectionWith([{ _id: 'y', type: 'T', idx: { str: [{ p: 'name', v: ['aa', 'zz'] }] } }]);
    const range = new CompiledFilter({ type: 'T', 'idx.str': { $elemMatch: { p: 'name', v: { $gt: 'm', $lt: 'b' } } } });
    assert.deepEqual(spread.find(range).map((d) => d._id), ['y']);
  });

  it('yields whole-tuple index matches in _id order, merged over several values, so an _id-sorted page stops early', () => {
    const big = collectionWith(generateResources(30_000, 3));
    const refs = ['Patient/p3', 'Patient/p7', 'Patient/p11', 'Patient/p19'];
    const filter = new CompiledFilter({ type: 'Observation', 'idx.ref': { $elemMatch: { p: 'subject', r: { $in: refs } } } });
    const plan = choosePlan(filter.conjunction, (big as unknown as { indexes: Map<string, never> }).indexes.values(), [['_id', 1]]).plan;
    assert.ok(plan.kind === 'index' && plan.sorted && plan.byId, JSON.stringify(plan.kind));
    const all = big.find(filter).map((d) => d._id).sort();
    assert.ok(all.length > 30, `only ${all.length} matches`);
    const { counting, tested } = countingTests(filter);
    assert.deepEqual(big.find(counting, { sort: [['_id', 1]], limit: 10 }).map((d) => d._id), all.slice(0, 10));
    assert.ok(tested() <= 12, `tested ${tested()} documents for a page of 10`);
    assert.deepEqual(big.find(filter, { sort: [['_id', -1]], skip: 3, limit: 5 }).map((d) => d._id), all.slice().reverse().slice(3, 8));
  });

  it('walks [type, _id] from a keyset position in _id order, so each page of a long walk costs one page', () => {
    const big = collectionWith(generateResources(30_000, 3));
    const all = big.find(new CompiledFilter({ type: 'Observation', deleted: false })).map((d) => d._id).sort();
    assert.ok(all.length > 3000, `only ${all.length} Observations`);
    const after = all[all.length >> 1] as string;
    const filter = new CompiledFilter({ $and: [{ type: 'Observation', deleted: false }, { _id: { $gt: after } }] });
    const plan = choosePlan(filter.conjunction, (big as unknown as { indexes: Map<string, never> }).indexes.values(), [['_id', 1]], 101).plan;
    assert.ok(plan.kind === 'index' && plan.sorted && plan.index.spec.name === 'type__id', JSON.stringify({ kind: plan.kind, index: indexName(plan) }));
    const { counting, tested } = countingTests(filter);
    const expected = all.filter((id) => id > after);
    assert.deepEqual(big.find(counting, { sort: [['_id', 1]], limit: 100 }).map((d) => d._id), expected.slice(0, 100));
    const walked = big.find(new CompiledFilter({ type: 'Observation', _id: { $gt: after, $lte: expected[99] as string } })).length;
    assert.equal(tested(), walked, `tested ${tested()} documents for a page of 100: those of the walk up to the page's last`);
    assert.deepEqual(big.find(filter, { sort: [['_id', -1]], limit: 5 }).map((d) => d._id), expected.slice().reverse().slice(0, 5));
  });

  it('reads a range scan\'s candidate ids from the index and tests documents in _id order, stopping after the page', () => {
    const big = collectionWith(generateResources(30_000, 3));
    const filter = new CompiledFilter({ type: 'Encounter', 'idx.date': { $elemMatch: { p: 'date', lo: { $gte: '2020-01-01T00:00:00.000Z', $lt: '2020-02-01T00:00:00.000Z' } } } });
    const all = big.find(filter).map((d) => d._id).sort();
    assert.ok(all.length > 50, `only ${all.length} matches`);
    const { counting, tested } = countingTests(filter);
    assert.deepEqual(big.find(counting, { sort: [['_id', -1]], limit: 7 }).map((d) => d._id), all.slice().reverse().slice(0, 7));
    assert.equal(tested(), 7);
  });

  it('intersects a range scan with an id-ordered token scan from the indexes alone, testing only the page', () => {
    const filter = new CompiledFilter({
      type: 'Observation',
      'idx.tok': { $elemMatch: { p: 'code', c: '789-8' } },
      'idx.date': { $elemMatch: { p: 'date', lo: { $gte: '2020-01-01T00:00:00.000Z', $lt: '2020-01-22T00:00:00.000Z' } } },
    });
    const indexed = collectionWith(generateResources(30_000, 3), RESOURCE_INDEXES.filter((spec) => !spec.crossesArrays));
    const plan = choosePlan(filter.conjunction, (indexed as unknown as { indexes: Map<string, never> }).indexes.values(), [['_id', 1]], 10).plan;
    assert.equal(plan.kind, 'intersect');
    const all = collectionWith(generateResources(30_000, 3), []).find(filter).map((d) => d._id).sort();
    assert.ok(all.length > 20, `only ${all.length} matches`);
    const { counting, tested } = countingTests(filter);
    assert.deepEqual(indexed.find(counting, { sort: [['_id', 1]], limit: 10 }).map((d) => d._id), all.slice(0, 10));
    assert.equal(tested(), 10);
    assert.deepEqual(indexed.find(filter, { sort: [['_id', -1]], limit: 10 }).map((d) => d._id), all.slice().reverse().slice(0, 10));
  });

  it('checks the ids of a patient\'s entries against the code index by point lookup, testing only documents that have both', () => {
    const filter = new CompiledFilter({
      type: 'Observation',
      deleted: false,
      'idx.ref': { $elemMatch: { p: 'subject', r: 'Patient/p3' } },
      'idx.tok': { $elemMatch: { p: 'code', c: '789-8' } },
    });
    const plan = planFor(resources, filter, [['_id', 1]]);
    assert.equal(plan.kind, 'lookup');
    assert.deepEqual(plan.kind === 'lookup' && [plan.build.index.spec.name, plan.checks.map((c) => c.index.spec.name)], ['type_ref', ['type_tok']]);
    const all = collectionWith(generateResources(3000, 1), []).find(filter).map((d) => d._id).sort();
    assert.ok(all.length > 0, 'no matches');
    const { counting, tested } = countingTests(filter);
    assert.deepEqual(resources.find(counting, { sort: [['_id', 1]], limit: 100 }).map((d) => d._id), all);
    assert.equal(tested(), all.length, 'only the documents holding both entries are fetched and tested');
    assert.deepEqual(resources.find(filter, { sort: [['_id', -1]], limit: 100 }).map((d) => d._id), all.slice().reverse());
    assert.equal(resources.count(filter), all.length);
  });

  it('counts candidate ranges with growing caps, so a small range is found without counting a large one to the cap', () => {
    const counted: number[] = [];
    const indexes = [...(resources as unknown as { indexes: Map<string, IndexView> }).indexes.values()].map((index) =>
      Object.assign(Object.create(index) as IndexView, { countUpTo: (intervals: KeyInterval[], cap: number) => (counted.push(cap), index.countUpTo(intervals, cap)) }),
    );
    const filter = new CompiledFilter({ type: 'Observation', 'idx.ref': { $elemMatch: { p: 'subject', r: 'Patient/p3' } }, 'idx.tok': { $elemMatch: { p: 'status', c: 'final' } } });
    const { plan } = choosePlan(filter.conjunction, indexes, undefined);
    assert.equal(indexName(plan), 'type_ref');
    assert.ok(Math.max(...counted) <= 512, `counted up to ${Math.max(...counted)}`);
  });

  it('serves a token and a date range together from the index that crosses both arrays', () => {
    const query = {
      type: 'Observation',
      'idx.tok': { $elemMatch: { p: 'code', c: '789-8' } },
      'idx.date': { $elemMatch: { p: 'date', lo: { $gte: '2020-01-01T00:00:00.000Z', $lt: '2020-03-01T00:00:00.000Z' } } },
    };
    const plan = planFor(resources, query, [['_id', 1]]);
    assert.equal(indexName(plan), 'type_tok_date');
    assert.equal(plan.kind === 'index' && plan.intervals.length, 1);
    const filter = new CompiledFilter(query);
    const expected = collectionWith(generateResources(3000, 1), []).find(filter).map((d) => d._id).sort();
    assert.ok(expected.length > 0);
    assert.deepEqual(resources.find(filter, { sort: [['_id', 1]], limit: 100 }).map((d) => d._id), expected);
  });

  it('tests an _id list in _id order, so an _id-sorted page stops early', () => {
    const ids = resources.find(new CompiledFilter({ type: 'Patient' })).map((d) => d._id).slice(0, 40);
    const filter = new CompiledFilter({ _id: { $in: [...ids].reverse() } });
    const { counting, tested } = countingTests(filter);
    assert.deepEqual(resources.find(counting, { sort: [['_id', 1]], limit: 5 }).map((d) => d._id), [...ids].sort().slice(0, 5));
    assert.equal(tested(), 5);
  });

  it('does not test candidates again against clauses their index bounds fix exactly (MongoDB exact bounds)', () => {
    const filter = new CompiledFilter({ type: 'Observation', deleted: false, 'idx.tok': { $elemMatch: { p: 'code', c: { $in: ['789-8', '1234-5'] } } } });
    const plan = planFor(resources, filter);
    assert.equal(indexName(plan), 'type_tok');
    const residual = filter.residual(enforcedBy(plan));
    assert.equal(residual({ _id: 'x', deleted: false }), true, 'type and token clauses are left to the index');
    assert.equal(residual({ _id: 'x', deleted: true }), false, '`deleted` is not in the index and is still tested');
    const ranged = new CompiledFilter({ type: 'Observation', 'idx.date': { $elemMatch: { p: 'date', lo: { $gte: '2020-01-01T00:00:00.000Z' } } } });
    assert.equal(ranged.residual(enforcedBy(planFor(resources, ranged)))({ _id: 'x', type: 'Observation' }), false, 'a range clause is tested');
  });

  it('keeps testing clauses whose index entries may belong to non-matching documents (nested arrays, lone documents)', () => {
    const docs: Doc[] = [
      { _id: 'match', type: 'T', idx: { tok: [{ p: 'code', c: '1' }] } },
      { _id: 'lone', type: 'T', idx: { tok: { p: 'code', c: '1' } } },
      { _id: 'nested', type: 'T', idx: { tok: [[{ p: 'code', c: '1' }]] } },
      { _id: 'leaf', type: 'T', idx: { tok: [{ p: [['code']], c: '1' }] } },
    ];
    const indexed = collectionWith(docs.map((d) => ({ ...d })), [{ name: 'type_tok', keys: [['type', 1], ['idx.tok.p', 1], ['idx.tok.c', 1]] }]);
    const scanned = collectionWith(docs.map((d) => ({ ...d })), []);
    for (const query of [
      { type: 'T', 'idx.tok': { $elemMatch: { p: 'code', c: '1' } } },
      { type: 'T', 'idx.tok.p': 'code', 'idx.tok.c': '1' },
      { type: 'T', 'idx.tok.p': { $in: ['code'] } },
    ]) {
      const expected = scanned.find(new CompiledFilter(query)).map((d) => d._id).sort();
      assert.deepEqual(indexed.find(new CompiledFilter(query)).map((d) => d._id).sort(), expected, JSON.stringify(query));
      assert.deepEqual(indexed.find(new CompiledFilter(query), { sort: [['_id', 1]], limit: 10 }).map((d) => d._id), expected, JSON.stringify(query));
      assert.equal(indexed.count(new CompiledFilter(query)), expected.length, JSON.stringify(query));
    }
    assert.deepEqual(scanned.find(new CompiledFilter({ type: 'T', 'idx.tok': { $elemMatch: { p: 'code', c: '1' } } })).map((d) => d._id), ['match']);
  });

  it('answers a selective query on 30,000 documents by visiting only its candidates', () => {
    const big = collectionWith(generateResources(30_000, 3));
    const filter = new CompiledFilter({ type: 'Observation', deleted: false, 'idx.ref': { $elemMatch: { p: 'subject', r: 'Patient/p7' } }, 'idx.tok': { $elemMatch: { p: 'code', c: '789-8' } } });
    const { counting, tested } = countingTests(filter);
    const found = big.find(counting, { sort: [['lastUpdated', -1]], limit: 20 });
    assert.equal(found.length, 20);
    assert.ok(tested() < 1_000, `tested ${tested()} documents`);
  });
});
