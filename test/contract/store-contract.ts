/**
 * The storage port contract (src/storage/port.ts), written once and run against every adapter.
 * `makeStore` must return a fresh, empty store; each test closes the store it made.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageConflict, type Doc, type Filter, type IndexSpec, type SortSpec, type Store } from '../../src/storage/port';
import { generateQueries, generateResources, MISSING_VALUE_RESOURCES, RESOURCE_INDEXES, SPARSE_RESOURCE_INDEXES, type GeneratedQuery } from './random-resources';

export function runStoreContract(name: string, makeStore: () => Promise<Store>): void {
  const withStore = async (fn: (store: Store) => Promise<void>): Promise<void> => {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  const seed = async (store: Store, collection: string, docs: Doc[]): Promise<void> => {
    await store.transaction(async (tx) => {
      for (const doc of docs) await tx.insert(collection, doc);
    });
  };
  const ids = (docs: Doc[]): string[] => docs.map((d) => d._id);
  const sortedIds = (docs: Doc[]): string[] => ids(docs).sort();
  /** Each query finds and counts the same in `indexed` as in `plain` (no indexes: a full scan). */
  const sameAsScan = async (store: Store, indexed: string, queries: GeneratedQuery[]): Promise<void> => {
    for (const { filter, options } of queries) {
      const label = JSON.stringify({ filter, options });
      const viaIndex = await store.find(indexed, filter, options);
      const viaScan = await store.find('plain', filter, options);
      if (options.sort) assert.deepEqual(ids(viaIndex), ids(viaScan), label);
      else assert.deepEqual(sortedIds(viaIndex), sortedIds(viaScan), label);
      assert.equal(await store.count(indexed, filter), await store.count('plain', filter), `count ${label}`);
    }
  };

  describe(`storage contract: ${name}`, () => {
    describe('documents', () => {
      it('inserts, finds, replaces and deletes by _id', () =>
        withStore(async (store) => {
          await seed(store, 'things', [{ _id: 'a', n: 1 }]);
          assert.deepEqual(await store.findOne('things', { _id: 'a' }), { _id: 'a', n: 1 });
          await store.transaction(async (tx) => tx.replace('things', { _id: 'a', n: 2 }));
          assert.deepEqual(await store.find('things', {}), [{ _id: 'a', n: 2 }]);
          const deleted = await store.transaction((tx) => tx.delete('things', 'a'));
          assert.equal(deleted, true);
          assert.equal(await store.transaction((tx) => tx.delete('things', 'a')), false);
          assert.equal(await store.findOne('things', { _id: 'a' }), null);
          assert.deepEqual(await store.find('never-written', {}), []);
          assert.equal(await store.count('never-written', {}), 0);
        }));

      it('keeps stored documents safe from callers mutating inputs or results', () =>
        withStore(async (store) => {
          const input = { _id: 'a', nested: { list: [1, 2] } };
          await seed(store, 'things', [input]);
          input.nested.list.push(3);
          const read = (await store.findOne('things', { _id: 'a' })) as { nested: { list: number[] } } & Doc;
          try {
            read.nested.list.push(4);
          } catch {
            // frozen results reject mutation; either way the stored copy must stay intact
          }
          const [projected] = (await store.find('things', { _id: 'a' }, { projection: { 'nested.list': 1 } })) as Array<{ nested: { list: number[] } } & Doc>;
          try {
            projected.nested.list.push(5);
          } catch {
            // as above
          }
          try {
            projected.nested.list = [];
          } catch {
            // as above
          }
          assert.deepEqual(await store.findOne('things', { _id: 'a' }), { _id: 'a', nested: { list: [1, 2] } });
        }));

      it('answers a readOnce (bulk) find exactly like a plain one', () =>
        withStore(async (store) => {
          await seed(store, 'things', [{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }, { _id: 'c', n: 3 }]);
          const options = { sort: [['_id', 1]] as SortSpec, limit: 2 };
          const plain = await store.find('things', { n: { $gte: 2 } }, options);
          assert.deepEqual(await store.find('things', { n: { $gte: 2 } }, { ...options, readOnce: true }), plain);
          assert.deepEqual(ids(plain), ['b', 'c']);
        }));

      it('rejects an insert of an existing _id with StorageConflict', () =>
        withStore(async (store) => {
          await seed(store, 'things', [{ _id: 'a' }]);
          await assert.rejects(store.transaction((tx) => tx.insert('things', { _id: 'a', other: true })), StorageConflict);
          assert.deepEqual(await store.find('things', {}), [{ _id: 'a' }]);
        }));

      it('rejects a replace whose expect filter no longer matches, or whose document is absent', () =>
        withStore(async (store) => {
          await seed(store, 'things', [{ _id: 'a', versionId: 2 }]);
          await assert.rejects(store.transaction((tx) => tx.replace('things', { _id: 'a', versionId: 3 }, { versionId: 1 })), StorageConflict);
          await assert.rejects(store.transaction((tx) => tx.replace('things', { _id: 'b', versionId: 1 })), StorageConflict);
          await store.transaction((tx) => tx.replace('things', { _id: 'a', versionId: 3 }, { versionId: 2 }));
          assert.deepEqual(await store.find('things', {}), [{ _id: 'a', versionId: 3 }]);
        }));

      it('enforces unique indexes with StorageConflict', () =>
        withStore(async (store) => {
          await store.ensureIndexes('things', [{ name: 'unique_url', keys: [['url', 1]], unique: true }]);
          await store.ensureIndexes('things', [{ name: 'unique_url', keys: [['url', 1]], unique: true }]);
          await seed(store, 'things', [{ _id: 'a', url: 'http://x' }]);
          await assert.rejects(store.transaction((tx) => tx.insert('things', { _id: 'b', url: 'http://x' })), StorageConflict);
          await assert.rejects(store.transaction((tx) => tx.replace('things', { _id: 'a', url: 'http://x' }).then(() => tx.insert('things', { _id: 'c', url: 'http://x' }))), StorageConflict);
          await store.transaction(async (tx) => {
            await tx.replace('things', { _id: 'a', url: 'http://y' });
            await tx.insert('things', { _id: 'b', url: 'http://x' });
          });
          assert.deepEqual(await store.find('things', {}, { sort: [['_id', 1]] }), [
            { _id: 'a', url: 'http://y' },
            { _id: 'b', url: 'http://x' },
          ]);
        }));
    });

    describe('filters', () => {
      const obs: Doc[] = [
        { _id: 'o1', type: 'Observation', status: 'final', value: 5, name: 'Smith', tok: [{ p: 'code', c: '1234-5', s: 'http://loinc.org' }, { p: 'status', c: 'final' }] },
        { _id: 'o2', type: 'Observation', status: 'amended', value: 12, name: 'smithers', tok: [{ p: 'code', c: 'final' }, { p: 'status', c: '1234-5' }] },
        { _id: 'o3', type: 'Observation', value: 7.5, name: 'Jones', tok: [{ p: 'code', c: '1234-5', s: 'http://other.org' }], tags: [['x', 'y'], ['z']] },
        { _id: 'p1', type: 'Patient', status: null, name: 'Smi', tok: [], tags: ['x'] },
      ];
      const check = async (store: Store, filter: Filter, expected: string[]): Promise<void> => {
        assert.deepEqual(sortedIds(await store.find('r', filter)), expected, JSON.stringify(filter));
        assert.equal(await store.count('r', filter), expected.length, `count ${JSON.stringify(filter)}`);
      };

      it('matches $elemMatch conditions within one array element only', () =>
        withStore(async (store) => {
          await seed(store, 'r', obs);
          await check(store, { tok: { $elemMatch: { p: 'code', c: '1234-5' } } }, ['o1', 'o3']);
          await check(store, { tok: { $elemMatch: { p: 'code', c: '1234-5', s: 'http://loinc.org' } } }, ['o1']);
          await check(store, { 'tok.p': 'code', 'tok.c': 'final' }, ['o1', 'o2']);
          await check(store, { tok: { $elemMatch: { p: 'status', c: { $in: ['final', 'x'] } } } }, ['o1']);
        }));

      it('evaluates $in, $or, $and, $not, $ne and $exists', () =>
        withStore(async (store) => {
          await seed(store, 'r', obs);
          await check(store, { status: { $in: ['final', 'amended'] } }, ['o1', 'o2']);
          await check(store, { $or: [{ status: 'final' }, { value: { $gt: 10 } }] }, ['o1', 'o2']);
          await check(store, { $and: [{ type: 'Observation' }, { value: { $lt: 10 } }] }, ['o1', 'o3']);
          await check(store, { value: { $not: { $gt: 6 } } }, ['o1', 'p1']);
          await check(store, { status: { $ne: 'final' } }, ['o2', 'o3', 'p1']);
          await check(store, { status: { $exists: false } }, ['o3']);
          await check(store, { status: null }, ['o3', 'p1']);
          await check(store, { tok: { $size: 0 } }, ['p1']);
        }));

      it('matches nested arrays by element and as whole arrays', () =>
        withStore(async (store) => {
          await seed(store, 'r', obs);
          await check(store, { tags: ['z'] }, ['o3']);
          await check(store, { tags: 'x' }, ['p1']);
          await check(store, { tags: { $elemMatch: { $elemMatch: { $eq: 'y' } } } }, ['o3']);
        }));

      it('compares ranges on strings and numbers within their own type', () =>
        withStore(async (store) => {
          await seed(store, 'r', obs);
          await check(store, { name: { $gte: 'Smi', $lt: 'Smj' } }, ['o1', 'p1']);
          await check(store, { name: { $gt: 'Smi' } }, ['o1', 'o2']);
          await check(store, { value: { $gte: 7.5, $lte: 12 } }, ['o2', 'o3']);
          await check(store, { value: { $gt: 'a' } }, []);
        }));

      it('follows arrays the way MongoDB does: ranges through arrays, $ne/$nin on missing fields, $elemMatch over mixed elements', () =>
        withStore(async (store) => {
          await seed(store, 'm', [
            { _id: 'd1', c: [{ b: ['B'] }, { b: 3 }], has: ['x', 'y'], r: 'Patient/a.b' },
            { _id: 'd2', c: [{ b: 'k' }], has: [], r: 'Patient/aXb', e: [1, { p: 'q' }] },
            { _id: 'd3', e: [[1], { p: 'z' }] },
            { _id: 'd4', has: 'x' },
          ]);
          const checkIn = async (filter: Filter, expected: string[]): Promise<void> => {
            assert.deepEqual(sortedIds(await store.find('m', filter)), expected, JSON.stringify(filter));
          };
          await checkIn({ 'c.b': { $lt: 'h' } }, ['d1']);
          await checkIn({ 'c.b': { $in: ['B'] } }, ['d1']);
          await checkIn({ 'c.b': { $gt: 2 } }, ['d1']);
          await checkIn({ 'c.b': { $exists: true } }, ['d1', 'd2']);
          await checkIn({ has: { $ne: 'x' } }, ['d2', 'd3']);
          await checkIn({ has: { $nin: ['y', 'z'] } }, ['d2', 'd3', 'd4']);
          await checkIn({ r: { $regex: '^[A-Za-z]+/a\\.b$' } }, ['d1']);
          await checkIn({ r: { $not: { $regex: '^Patient/' } } }, ['d3', 'd4']);
          await checkIn({ e: { $elemMatch: { p: { $ne: 'q' } } } }, ['d3']);
          await checkIn({ e: { $elemMatch: { p: { $exists: false } } } }, ['d3']);
        }));
    });

    describe('sort, paging, projection, count', () => {
      const docs: Doc[] = [
        { _id: 'a', k: 2, s: 'b', arr: [5, 1] },
        { _id: 'b', k: 1, s: 'a', arr: [3] },
        { _id: 'c', k: 2, s: 'a', arr: [] },
        { _id: 'd', s: 'c', arr: [2, 9] },
        { _id: 'e', k: null, s: 'c' },
      ];

      it('sorts by several keys with missing and null values first when ascending', () =>
        withStore(async (store) => {
          await seed(store, 'r', docs);
          const sort: SortSpec = [['k', 1], ['s', -1], ['_id', 1]];
          assert.deepEqual(ids(await store.find('r', {}, { sort })), ['d', 'e', 'b', 'a', 'c']);
          assert.deepEqual(ids(await store.find('r', {}, { sort: [['k', -1], ['s', 1], ['_id', 1]] })), ['c', 'a', 'b', 'd', 'e']);
        }));

      it('sorts arrays by their smallest element ascending and largest descending, empty arrays first', () =>
        withStore(async (store) => {
          await seed(store, 'r', docs);
          assert.deepEqual(ids(await store.find('r', {}, { sort: [['arr', 1], ['_id', 1]] })), ['c', 'e', 'a', 'd', 'b']);
          assert.deepEqual(ids(await store.find('r', {}, { sort: [['arr', -1], ['_id', 1]] })), ['d', 'a', 'b', 'e', 'c']);
        }));

      it('applies skip and limit after sorting', () =>
        withStore(async (store) => {
          await seed(store, 'r', docs);
          assert.deepEqual(ids(await store.find('r', {}, { sort: [['_id', -1]], skip: 1, limit: 2 })), ['d', 'c']);
          assert.deepEqual(ids(await store.find('r', {}, { sort: [['_id', 1]], skip: 4, limit: 10 })), ['e']);
          assert.deepEqual(ids(await store.find('r', {}, { sort: [['_id', 1]], skip: 9 })), []);
          assert.equal((await store.findOne('r', {}, { sort: [['s', -1], ['_id', -1]] }))?._id, 'e');
        }));

      it('projects by inclusion and exclusion, keeping _id unless excluded', () =>
        withStore(async (store) => {
          await seed(store, 'r', [{ _id: 'x', a: 1, b: { c: 2, d: 3 }, list: [{ c: 1, d: 2 }, { d: 4 }] }]);
          assert.deepEqual(await store.find('r', {}, { projection: { a: 1 } }), [{ _id: 'x', a: 1 }]);
          assert.deepEqual(await store.find('r', {}, { projection: { 'b.c': 1, _id: 0 } }), [{ b: { c: 2 } }]);
          assert.deepEqual(await store.find('r', {}, { projection: { 'list.d': 1 } }), [{ _id: 'x', list: [{ d: 2 }, { d: 4 }] }]);
          assert.deepEqual(await store.find('r', {}, { projection: { b: 0, list: 0 } }), [{ _id: 'x', a: 1 }]);
          assert.deepEqual(await store.find('r', {}, { projection: { 'b.d': 0, list: 0, a: 0 } }), [{ _id: 'x', b: { c: 2 } }]);
        }));

      it('counts matches and stops at the given limit', () =>
        withStore(async (store) => {
          await seed(store, 'r', docs);
          assert.equal(await store.count('r', {}), 5);
          assert.equal(await store.count('r', {}, 3), 3);
          assert.equal(await store.count('r', { s: 'c' }, 10), 2);
          assert.equal(await store.count('r', { s: 'zz' }, 1), 0);
        }));
    });

    describe('indexes', () => {
      it('gives the same results with indexes as a full scan for generated resource queries', () =>
        withStore(async (store) => {
          const resources = generateResources(600, 42);
          await store.ensureIndexes('indexed', RESOURCE_INDEXES);
          await store.ensureIndexes('history', [{ name: 'lu', keys: [['lastUpdated', -1]] }]);
          await seed(store, 'indexed', resources.slice(0, 300));
          await seed(store, 'plain', resources);
          await seed(store, 'indexed', resources.slice(300));
          await sameAsScan(store, 'indexed', generateQueries(400, 7));
        }));

      it('gives the same results with sparse indexes as a full scan, also for queries that match missing values', () =>
        withStore(async (store) => {
          const resources = [...generateResources(500, 43), ...MISSING_VALUE_RESOURCES];
          await store.ensureIndexes('sparse', SPARSE_RESOURCE_INDEXES);
          await seed(store, 'sparse', resources.slice(0, 250));
          await seed(store, 'plain', resources);
          await seed(store, 'sparse', resources.slice(250));
          // Values removed and added again by replace: their entries must go and come back.
          await store.transaction(async (tx) => {
            for (const doc of resources.slice(0, 40)) await tx.replace('sparse', { ...doc, idx: {} });
            for (const doc of resources.slice(0, 20)) await tx.replace('sparse', doc);
            for (const doc of resources.slice(20, 40)) await tx.replace('plain', { ...doc, idx: {} });
          });
          await sameAsScan(store, 'sparse', generateQueries(400, 11, true));
        }));

      it('drops indexes by name: what they enforced no longer applies, queries still answer right; unknown names are no-ops', () =>
        withStore(async (store) => {
          await store.ensureIndexes('things', [
            { name: 'unique_url', keys: [['url', 1]], unique: true },
            { name: 'n', keys: [['n', 1]] },
          ]);
          await seed(store, 'things', [{ _id: 'a', url: 'http://x', n: 1 }]);
          await assert.rejects(store.transaction((tx) => tx.insert('things', { _id: 'b', url: 'http://x', n: 2 })), StorageConflict);
          await store.dropIndexes('things', ['unique_url', 'never-defined']);
          await store.dropIndexes('things', ['unique_url']);
          await store.dropIndexes('never-written', ['n']);
          await seed(store, 'things', [{ _id: 'b', url: 'http://x', n: 2 }]);
          assert.deepEqual(ids(await store.find('things', { url: 'http://x' }, { sort: [['_id', 1]] })), ['a', 'b']);
          assert.deepEqual(ids(await store.find('things', { n: { $gte: 2 } })), ['b']);
          assert.equal(await store.count('things', { url: 'http://x' }), 2);
        }));

      it('keeps index results right after replace and delete', () =>
        withStore(async (store) => {
          const indexes: IndexSpec[] = [{ name: 'tok', keys: [['type', 1], ['tok.p', 1], ['tok.c', 1]] }];
          await store.ensureIndexes('r', indexes);
          await seed(store, 'r', [
            { _id: 'a', type: 'T', tok: [{ p: 'code', c: '1' }] },
            { _id: 'b', type: 'T', tok: [{ p: 'code', c: '2' }] },
          ]);
          await store.transaction(async (tx) => {
            await tx.replace('r', { _id: 'a', type: 'T', tok: [{ p: 'code', c: '2' }] });
            await tx.delete('r', 'b');
          });
          const filter = { type: 'T', tok: { $elemMatch: { p: 'code', c: '2' } } };
          assert.deepEqual(ids(await store.find('r', filter)), ['a']);
          assert.deepEqual(ids(await store.find('r', { type: 'T', tok: { $elemMatch: { p: 'code', c: '1' } } })), []);
        }));

      it('answers queries outside a partial index (IndexSpec.only) as a full scan would: they do not use it', () =>
        withStore(async (store) => {
          await store.ensureIndexes('p', [
            { name: 'partial', keys: [['type', 1], ['tok.p', 1], ['tok.c', 1], ['n', 1]], only: [['type', ['T']], ['tok.p', ['code', 'category']]] },
          ]);
          const docs: Doc[] = [];
          let i = 0;
          for (const type of ['T', 'U']) {
            for (const p of ['code', 'category', 'status']) {
              for (const c of ['a', 'b']) docs.push({ _id: `${type}-${p}-${c}-${i}`, type, tok: [{ p, c }], n: i++ % 4 });
            }
          }
          await seed(store, 'p', docs);
          const expected = (f: (d: Doc) => boolean): string[] => docs.filter(f).map((d) => d._id).sort();
          const tok = (d: Doc) => (d.tok as Array<{ p: string; c: string }>)[0]!;
          for (const type of ['T', 'U']) {
            for (const ps of [['code'], ['status'], ['code', 'status'], ['code', 'category']]) {
              const filter = { type, tok: { $elemMatch: { p: { $in: ps }, c: 'a' } }, n: { $gte: 1 } };
              const found = ids(await store.find('p', filter)).sort();
              assert.deepEqual(found, expected((d) => d.type === type && ps.includes(tok(d).p) && tok(d).c === 'a' && (d.n as number) >= 1), `${type} ${ps.join(',')}`);
              assert.equal(await store.count('p', filter), found.length);
            }
          }
          // Sorted walks read an index whole: a partial one cannot serve them either.
          assert.deepEqual(ids(await store.find('p', { type: 'U' }, { sort: [['type', 1], ['tok.p', 1]] })).length, 6);
        }));

      it('keeps index results right when a document is deleted and inserted again, in one transaction or in commits queued together', () =>
        withStore(async (store) => {
          await store.ensureIndexes('r', [{ name: 'tok', keys: [['type', 1], ['tok.p', 1], ['tok.c', 1]] }]);
          await seed(store, 'r', [
            { _id: 'a', type: 'T', tok: [{ p: 'code', c: 'old-a' }] },
            { _id: 'b', type: 'T', tok: [{ p: 'code', c: 'old-b' }] },
          ]);
          const byCode = async (c: string) => ids(await store.find('r', { type: 'T', tok: { $elemMatch: { p: 'code', c } } }));
          // One transaction: delete, then insert under the same _id (and replace what it inserted).
          await store.transaction(async (tx) => {
            await tx.delete('r', 'a');
            await tx.insert('r', { _id: 'a', type: 'T', tok: [{ p: 'code', c: 'mid-a' }] });
            await tx.replace('r', { _id: 'a', type: 'T', tok: [{ p: 'code', c: 'new-a' }] });
          });
          // Concurrent transactions: a delete, and an insert of the same _id queued behind it.
          await Promise.all([
            store.transaction((tx) => tx.delete('r', 'b')),
            store.transaction((tx) => tx.insert('r', { _id: 'b', type: 'T', tok: [{ p: 'code', c: 'new-b' }] })),
            store.transaction((tx) => tx.insert('r', { _id: 'c', type: 'T', tok: [{ p: 'code', c: 'new-c' }] })),
          ]);
          // Replaces queued behind one another: each takes away the entries of the version before it, still in flight.
          await Promise.all(['r1', 'r2', 'r3'].map((c) => store.transaction((tx) => tx.replace('r', { _id: 'c', type: 'T', tok: [{ p: 'code', c }] }))));
          for (const stale of ['old-a', 'mid-a', 'old-b', 'new-c', 'r1', 'r2']) assert.deepEqual(await byCode(stale), [], stale);
          assert.deepEqual(await byCode('new-a'), ['a']);
          assert.deepEqual(await byCode('new-b'), ['b']);
          assert.deepEqual(await byCode('r3'), ['c']);
        }));
    });

    describe('transactions', () => {
      it('commits all writes of a transaction and returns its result', () =>
        withStore(async (store) => {
          const result = await store.transaction(async (tx) => {
            await tx.insert('r', { _id: 'a' });
            await tx.insert('h', { _id: 'a/1' });
            return 'done';
          });
          assert.equal(result, 'done');
          assert.equal(await store.count('r', {}), 1);
          assert.equal(await store.count('h', {}), 1);
        }));

      it('writes nothing when work throws, and rethrows the same error', () =>
        withStore(async (store) => {
          await seed(store, 'r', [{ _id: 'keep', v: 1 }]);
          const failure = new Error('boom');
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.insert('r', { _id: 'new' });
              await tx.replace('r', { _id: 'keep', v: 2 });
              await tx.delete('r', 'keep');
              throw failure;
            }),
            (error) => error === failure,
          );
          assert.deepEqual(await store.find('r', {}), [{ _id: 'keep', v: 1 }]);
        }));

      it('lets a transaction read its own writes, including in queries and counts', () =>
        withStore(async (store) => {
          await seed(store, 'r', [{ _id: 'a', v: 1 }, { _id: 'b', v: 2 }]);
          await store.transaction(async (tx) => {
            await tx.insert('r', { _id: 'c', v: 3 });
            await tx.replace('r', { _id: 'a', v: 10 });
            await tx.delete('r', 'b');
            assert.deepEqual(await tx.find('r', {}, { sort: [['v', -1]] }), [{ _id: 'a', v: 10 }, { _id: 'c', v: 3 }]);
            assert.deepEqual(await tx.findOne('r', { _id: 'b' }), null);
            assert.equal(await tx.count('r', { v: { $gte: 3 } }), 2);
            assert.equal(await tx.count('r', {}, 1), 1);
            assert.deepEqual(await tx.find('r', { v: { $gt: 0 } }, { sort: [['v', 1]], limit: 1, projection: { v: 1 } }), [{ _id: 'c', v: 3 }]);
          });
        }));

      it('hides uncommitted writes from concurrent readers', () =>
        withStore(async (store) => {
          await seed(store, 'r', [{ _id: 'a', v: 1 }]);
          await store.transaction(async (tx) => {
            await tx.insert('r', { _id: 'b', v: 2 });
            await tx.replace('r', { _id: 'a', v: 5 });
            assert.deepEqual(await store.find('r', {}), [{ _id: 'a', v: 1 }]);
            assert.equal(await store.count('r', { v: 2 }), 0);
          });
          assert.deepEqual(await store.find('r', {}, { sort: [['_id', 1]] }), [{ _id: 'a', v: 5 }, { _id: 'b', v: 2 }]);
        }));

      it('detects conflicts inside a transaction: duplicate insert and stale expect', () =>
        withStore(async (store) => {
          await seed(store, 'r', [{ _id: 'a', versionId: 1 }]);
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.insert('r', { _id: 'b' });
              await tx.insert('r', { _id: 'b' });
            }),
            StorageConflict,
          );
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.replace('r', { _id: 'a', versionId: 2 }, { versionId: 1 });
              await tx.replace('r', { _id: 'a', versionId: 2 }, { versionId: 1 });
            }),
            StorageConflict,
          );
          assert.deepEqual(await store.find('r', {}), [{ _id: 'a', versionId: 1 }]);
        }));

      it('runs many concurrent transactions without losing or tearing any', () =>
        withStore(async (store) => {
          await seed(store, 'counter', [{ _id: 'c', n: 0 }]);
          const increment = async (): Promise<void> => {
            for (;;) {
              try {
                await store.transaction(async (tx) => {
                  const current = (await tx.findOne('counter', { _id: 'c' })) as { n: number } & Doc;
                  await tx.replace('counter', { _id: 'c', n: current.n + 1 }, { n: current.n });
                });
                return;
              } catch (error) {
                if (!(error instanceof StorageConflict)) throw error;
              }
            }
          };
          const pairs = Array.from({ length: 40 }, (_, i) =>
            store.transaction(async (tx) => {
              await tx.insert('r', { _id: `r${i}`, pair: i });
              await tx.insert('h', { _id: `h${i}`, pair: i });
            }),
          );
          await Promise.all([...pairs, ...Array.from({ length: 20 }, increment)]);
          assert.equal(await store.count('r', {}), 40);
          assert.equal(await store.count('h', {}), 40);
          assert.deepEqual(await store.findOne('counter', { _id: 'c' }), { _id: 'c', n: 20 });
        }));

      it('orders concurrent transactions that guard the same key: read-then-insert makes one document', () =>
        withStore(async (store) => {
          const insertUnlessPresent = (i: number): Promise<void> =>
            store.transaction(async (tx) => {
              await tx.guard('key-x');
              if (await tx.findOne('r', { key: 'x' })) return;
              await tx.insert('r', { _id: `r${i}`, key: 'x' });
            });
          const unrelated = (i: number): Promise<void> =>
            store.transaction(async (tx) => {
              await tx.guard(`key-${i}`);
              await tx.insert('r', { _id: `u${i}`, key: `u${i}` });
            });
          await Promise.all([...Array.from({ length: 16 }, (_, i) => insertUnlessPresent(i)), ...Array.from({ length: 4 }, (_, i) => unrelated(i))]);
          assert.equal(await store.count('r', { key: 'x' }), 1);
          assert.equal(await store.count('r', {}), 5);
        }));
    });
  });
}

