/**
 * The LMDB index key layout (src/storage/embedded/lmdb-layout.ts, layout 2): keys of an index with a `type` key end
 * in the id relative to that type (index-ids.ts) and still order every id as before; sparse indexes
 * (IndexSpec.sparseOn) leave out tuples without a value; a directory written in layout 1 (whole ids) or with an
 * index whose definition changed has its indexes rebuilt on open, and answers as before. Documents of a new
 * directory are compressed with the record dictionary kept in its `meta` (a directory created with an earlier
 * dictionary keeps that one); older ones keep lmdb-js's default.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { idFromStored, storedId } from '../../../src/storage/embedded/index-ids';
import { LmdbIndex, type StoredIndex } from '../../../src/storage/embedded/lmdb-index';
import { open } from 'lmdb';
import { META_DICTIONARY_KEY, META_LAYOUT_KEY, PrefixTable, stringKeys, collectionEntry, decodeDocument, encodeDocument, indexEntry, metaIndexesKey } from '../../../src/storage/embedded/lmdb-layout';
import { checkDataDir } from '../../../src/storage/embedded/lmdb-maintenance';
import { openEnvironment, openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import { RECORD_DICTIONARY } from '../../../src/storage/embedded/record-dictionary';
import type { Doc, Filter, IndexSpec, Store, StoreWarning } from '../../../src/storage/port';

const scratch = mkdtempSync(join(tmpdir(), 'lmdb-keys-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `store-${dirs++}`);

/** Ids of every shape next to `T/…`: before the block, in it (also `T/` alone), after it, and of another type. */
const IDS = ['A', 'T', 'T.', 'T/', 'T/1', 'T/10', 'T/2', 'T/\u00e9', 'T0', 'TT', 'U/1', 'Z', '\u0001'];
/** Plus a document of two types (one key per type) and one whose type is not a string (ids kept whole). */
const DOCS: Doc[] = [
  ...IDS.map((id, i) => ({ _id: id, type: 'T', code: i % 3 === 0 ? 'x' : 'y', ...(i % 2 ? { sys: 's' } : {}) })),
  { _id: 'V/1', type: ['T', 'V'], code: 'x' },
  { _id: 'N/1', type: 7, code: 'x' },
];
const INDEXES: IndexSpec[] = [
  { name: 'type_code', keys: [['type', 1], ['code', 1]] },
  { name: 'type__id', keys: [['type', 1], ['_id', 1]] },
  { name: 'code_type', keys: [['code', 1], ['type', 1]] },
  { name: 'type_sys', keys: [['type', 1], ['sys', 1]], sparseOn: ['sys'] },
];
/** `ties`: the sort leaves ties, whose order may differ: compared as sets. */
const QUERIES: Array<{ filter: Filter; sort?: Array<[string, 1 | -1]>; limit?: number; ties?: boolean }> = [
  { filter: { type: 'T' }, sort: [['_id', 1]] },
  { filter: { type: 'T' }, sort: [['_id', -1]], limit: 5 },
  { filter: { type: 'T', code: 'x' }, sort: [['_id', 1]] },
  { filter: { type: 'T', code: { $in: ['x', 'y'] } }, sort: [['_id', -1]], limit: 4 },
  { filter: { code: 'x', type: 'T' } },
  { filter: { type: 'T', _id: { $gt: 'T/1' } }, sort: [['_id', 1]], limit: 3 },
  { filter: { type: 'T', sys: 's' }, sort: [['_id', 1]] },
  { filter: { type: 'T', sys: null }, sort: [['_id', 1]] },
  { filter: { type: 'T', sys: { $exists: false } } },
  { filter: { type: 7 } },
  // An ordered walk of type_sys would miss the documents without `sys`, which sort first.
  { filter: { type: 'T' }, sort: [['sys', 1]], limit: 50, ties: true },
];

async function seed(store: Store): Promise<void> {
  await store.ensureIndexes('docs', INDEXES);
  await store.transaction(async (tx) => {
    for (const doc of DOCS) await tx.insert('docs', doc);
    for (const doc of DOCS) await tx.insert('plain', doc);
  });
}

async function assertSameAsScan(store: Store): Promise<void> {
  for (const { filter, ties, ...options } of QUERIES) {
    const found = async (collection: string): Promise<string[]> => {
      const list = (await store.find(collection, filter, options)).map((d) => d._id);
      return options.sort && !ties ? list : list.sort();
    };
    const [indexed, plain] = [await found('docs'), await found('plain')];
    assert.deepEqual(indexed, plain, JSON.stringify({ filter, options }));
    assert.equal(await store.count('docs', filter), await store.count('plain', filter), `count ${JSON.stringify(filter)}`);
  }
}

/** Every key of the `index` database. */
function indexKeys(dataDir: string): string[] {
  const { env, index } = openEnvironment(dataDir, { readOnly: true });
  const keys = [...index.getKeys({ start: '\u0000', end: '\uffff' })] as string[];
  void env.close();
  return keys;
}

/** Rewrites a directory's index keys and layout record as layout 1 wrote them: tuple + whole `_id`. */
async function downgradeToLayout1(dataDir: string): Promise<void> {
  const { env, docs, index, meta } = openEnvironment(dataDir);
  const prefixes = PrefixTable.load(meta);
  const stored = JSON.parse(decodeDocument(meta.getBinary(metaIndexesKey('docs'))!, 'meta', 'indexes/docs')) as StoredIndex[];
  const docPrefix = prefixes.get(collectionEntry('docs'))!;
  const all = [...docs.getRange({ start: docPrefix, end: docPrefix.slice(0, 1) + String.fromCharCode(docPrefix.charCodeAt(1) + 1) })].map(
    ({ value }) => JSON.parse(decodeDocument(value as Buffer, 'docs', '?')) as Doc,
  );
  await env.transaction(() => {
    for (const key of [...index.getKeys({ start: '\u0000', end: '\uffff' })]) index.removeSync(key);
    for (const s of stored) {
      const prefix = prefixes.get(indexEntry('docs', s.spec.name))!;
      const view = new LmdbIndex(prefix, s.spec, index, s);
      for (const doc of all) for (const tuple of view.tuples(doc)) index.putSync(prefix + tuple + doc._id, Buffer.alloc(0));
    }
    meta.putSync(META_LAYOUT_KEY, encodeDocument(JSON.stringify({ layout: 1 })));
  });
  await env.close();
}

describe('LMDB index keys', () => {
  it('stores ids relative to the type and gives them back, in the same order as whole ids', () => {
    for (const type of ['T', 'Observation', undefined]) {
      const sorted = [...IDS, 'Observation/1', 'Observation/', 'Observatio'].sort();
      const stored = sorted.map((id) => storedId(type, id));
      assert.deepEqual([...stored].sort(), stored, `order under ${type}`);
      assert.deepEqual(
        stored.map((s) => idFromStored(type, s)),
        sorted,
      );
    }
    assert.equal(storedId('Observation', 'Observation/0190a1b2'), '\u00020190a1b2');
  });

  it('answers queries over type-led, type-second and sparse indexes as a full scan does', async () => {
    const dataDir = freshDir();
    const store = await openLmdbStore({ dataDir });
    await seed(store);
    await assertSameAsScan(store);
    await store.transaction(async (tx) => {
      await tx.replace('docs', { _id: 'T/1', type: 'T', code: 'x', sys: 's' });
      await tx.replace('plain', { _id: 'T/1', type: 'T', code: 'x', sys: 's' });
      await tx.delete('docs', 'T/2');
      await tx.delete('plain', 'T/2');
    });
    await assertSameAsScan(store);
    await store.close();
    const keys = indexKeys(dataDir);
    assert.ok(keys.some((k) => k.endsWith('\u000210')), 'T/10 is stored as 10 after its type');
    assert.ok(!keys.some((k) => k.endsWith('T/10')), 'no key repeats the type of T/10');
  });

  it('leaves out the tuples of a sparse index without a value, and rebuilds an index whose definition turned sparse', async () => {
    const dataDir = freshDir();
    const warnings: StoreWarning[] = [];
    const first = await openLmdbStore({ dataDir });
    await seed(first);
    await first.close();
    const before = indexKeys(dataDir).length;
    const second = await openLmdbStore({ dataDir, onWarning: (w) => warnings.push(w) });
    await second.ensureIndexes('docs', [...INDEXES.slice(1), { name: 'type_code', keys: [['type', 1], ['code', 1]], sparseOn: ['code'] }]);
    assert.match(warnings.map((w) => w.msg).join('\n'), /built 1 indexes of collection docs \(type_code\) over \d+ stored documents/);
    await assertSameAsScan(second);
    await second.close();
    assert.equal(indexKeys(dataDir).length, before, 'every document has a code: the sparse index holds the same entries');
  });

  it('opens a layout-1 directory: its indexes are rebuilt in layout 2 and answer as before', async () => {
    const dataDir = freshDir();
    const first = await openLmdbStore({ dataDir });
    await seed(first);
    await first.close();
    const layout2 = indexKeys(dataDir).sort();
    await downgradeToLayout1(dataDir);
    assert.ok(indexKeys(dataDir).some((k) => k.endsWith('T/10')));
    // store:check reads its documents and leaves its index entries, which it would not make, unchecked.
    const before = await checkDataDir(dataDir);
    assert.match(before.indexesSkipped ?? '', /LMDB layout 1/);
    assert.equal(before.problemCount, 0);

    const warnings: StoreWarning[] = [];
    const store = await openLmdbStore({ dataDir, onWarning: (w) => warnings.push(w) });
    assert.match(warnings[0]?.msg ?? '', /LMDB layout 1: its \d+ index entries were dropped for layout 2/);
    // Until the server defines them again, the collection has no index: queries still answer (full scans).
    await assertSameAsScan(store);
    await store.ensureIndexes('docs', INDEXES);
    assert.match(warnings.map((w) => w.msg).join('\n'), /built 4 indexes of collection docs/);
    await assertSameAsScan(store);
    await store.transaction(async (tx) => {
      await tx.insert('docs', { _id: 'T/3', type: 'T', code: 'x' });
      await tx.insert('plain', { _id: 'T/3', type: 'T', code: 'x' });
    });
    assert.deepEqual((await store.find('docs', { type: 'T', code: 'x', _id: { $gte: 'T/1' } }, { sort: [['_id', 1]] })).map((d) => d._id), ['T/2', 'T/3', 'TT', 'V/1']);
    await assertSameAsScan(store);
    await store.close();
    assert.deepEqual(indexKeys(dataDir).filter((k) => !k.endsWith('\u00023')), layout2);
    const { env, meta } = openEnvironment(dataDir, { readOnly: true });
    assert.deepEqual(JSON.parse(decodeDocument(meta.getBinary(META_LAYOUT_KEY)!, 'meta', META_LAYOUT_KEY)), { layout: 2 });
    await env.close();
    const upgraded = await checkDataDir(dataDir);
    assert.deepEqual([upgraded.indexesSkipped, upgraded.problemCount, upgraded.indexEntries], [undefined, 0, layout2.length + 3]);
    // A second open finds layout 2: nothing is dropped again.
    const again: StoreWarning[] = [];
    const reopened = await openLmdbStore({ dataDir, onWarning: (w) => again.push(w) });
    await reopened.ensureIndexes('docs', INDEXES);
    assert.deepEqual(again, []);
    await reopened.close();
  });
});

/** A record-like document of ~3 KB (a stored Observation is mostly its search index entries). */
const RECORD: Doc = {
  _id: 'Observation/0190a5f4-7c3e-7b21-9d4a-3f6e2b8c1d05',
  type: 'Observation',
  resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] } },
  idx: {
    tok: Array.from({ length: 12 }, (_, i) => ({ p: i % 2 ? 'code' : 'combo-code', s: 'http://loinc.org', c: `8867-${i}`, t: 'heart rate' })),
    date: Array.from({ length: 6 }, (_, i) => ({ p: 'date', lo: `2024-0${i + 1}-01T00:00:00.000Z`, hi: `2024-0${i + 1}-01T23:59:59.999Z` })),
  },
  compartments: ['Patient/p1'],
};

describe('LMDB document compression', () => {
  /** The stored (compressed) size of `id` of collection docs, read without decompression. */
  const storedSize = (dataDir: string, id: string): number => {
    const env = open({ path: join(dataDir, 'lmdb'), maxDbs: 4, readOnly: true });
    const meta = env.openDB<Buffer, string>('meta', { encoding: 'binary', keyEncoder: stringKeys } as never);
    const raw = env.openDB<Buffer, string>('docs', { encoding: 'binary', keyEncoder: stringKeys } as never);
    const size = raw.getBinary(PrefixTable.load(meta).get(collectionEntry('docs')) + id)!.length;
    void env.close();
    return size;
  };

  it('compresses the documents of a new directory with the record dictionary it keeps in meta', async () => {
    const dataDir = freshDir();
    const store = await openLmdbStore({ dataDir });
    await store.transaction((tx) => tx.insert('docs', RECORD));
    await store.close();
    const { env, meta } = openEnvironment(dataDir, { readOnly: true });
    assert.ok(meta.getBinary(META_DICTIONARY_KEY) !== undefined);
    await env.close();
    // The same document in a directory without the dictionary (lmdb-js's default one).
    const plainDir = freshDir();
    const env2 = open({ path: join(plainDir, 'lmdb'), maxDbs: 4 });
    const docs = env2.openDB<Buffer, string>('docs', { encoding: 'binary', keyEncoder: stringKeys, compression: { threshold: 1000 } } as never);
    const meta2 = env2.openDB<Buffer, string>('meta', { encoding: 'binary', keyEncoder: stringKeys } as never);
    await env2.transaction(() => {
      meta2.putSync('prefixes', encodeDocument(JSON.stringify([['c/docs', '!!']])));
      docs.putSync(`!!${RECORD._id}`, encodeDocument(JSON.stringify(RECORD)));
    });
    await env2.close();
    const [withDictionary, withDefault] = [storedSize(dataDir, RECORD._id), storedSize(plainDir, RECORD._id)];
    assert.ok(withDictionary < withDefault * 0.8, `${withDictionary} bytes stored, ${withDefault} with the default dictionary, of ${JSON.stringify(RECORD).length}`);
    const reopened = await openLmdbStore({ dataDir });
    assert.deepEqual(await reopened.find('docs', { _id: RECORD._id }), [RECORD]);
    await reopened.close();
  });

  it('reads a directory compressed with an earlier record dictionary (the one in its meta) and goes on writing with it', async () => {
    // A dictionary unlike RECORD_DICTIONARY, as a directory created before the dictionary changed has it.
    const earlier = Buffer.from(JSON.stringify({ ...RECORD, id: 'earlier' }).repeat(2)).subarray(0, 2048);
    assert.notDeepEqual(earlier, RECORD_DICTIONARY);
    const dataDir = freshDir();
    const env = open({ path: join(dataDir, 'lmdb'), maxDbs: 4 });
    const options = { encoding: 'binary', keyEncoder: stringKeys } as never;
    const docs = env.openDB<Buffer, string>('docs', { ...(options as object), compression: { threshold: 1000, dictionary: earlier } } as never);
    const meta = env.openDB<Buffer, string>('meta', options);
    await env.transaction(() => {
      meta.putSync(META_LAYOUT_KEY, encodeDocument(JSON.stringify({ layout: 2 })));
      meta.putSync(META_DICTIONARY_KEY, encodeDocument(JSON.stringify({ lz4: earlier.toString('base64') })));
      meta.putSync('prefixes', encodeDocument(JSON.stringify([['c/docs', '!!']])));
      docs.putSync(`!!${RECORD._id}`, encodeDocument(JSON.stringify(RECORD)));
    });
    await env.close();
    // Decompressed with today's dictionary, the stored bytes are not the record: the directory's own one is needed.
    const wrong = open({ path: join(dataDir, 'lmdb'), maxDbs: 4, readOnly: true });
    const wrongDocs = wrong.openDB<Buffer, string>('docs', { ...(options as object), compression: { threshold: 1000, dictionary: RECORD_DICTIONARY } } as never);
    let misread: string | undefined;
    try {
      misread = decodeDocument(wrongDocs.getBinary(`!!${RECORD._id}`)!, 'docs', RECORD._id);
    } catch {
      misread = undefined;
    }
    await wrong.close();
    assert.notEqual(misread, JSON.stringify(RECORD));
    const store = await openLmdbStore({ dataDir });
    assert.deepEqual(await store.find('docs', {}), [RECORD]);
    await store.transaction((tx) => tx.insert('docs', { ...RECORD, _id: 'Observation/2' }));
    await store.close();
    const again = await openLmdbStore({ dataDir });
    assert.deepEqual(await again.find('docs', { _id: 'Observation/2' }), [{ ...RECORD, _id: 'Observation/2' }]);
    await again.close();
    const check = openEnvironment(dataDir, { readOnly: true });
    assert.deepEqual(Buffer.from((JSON.parse(decodeDocument(check.meta.getBinary(META_DICTIONARY_KEY)!, 'meta', META_DICTIONARY_KEY)) as { lz4: string }).lz4, 'base64'), earlier);
    await check.env.close();
  });

  it('reads a directory written without a dictionary in meta (lmdb-js default) and does not start using one', async () => {
    const dataDir = freshDir();
    const env = open({ path: join(dataDir, 'lmdb'), maxDbs: 4 });
    const options = { encoding: 'binary', keyEncoder: stringKeys } as never;
    const docs = env.openDB<Buffer, string>('docs', { ...(options as object), compression: { threshold: 1000 } } as never);
    const meta = env.openDB<Buffer, string>('meta', options);
    await env.transaction(() => {
      meta.putSync(META_LAYOUT_KEY, encodeDocument(JSON.stringify({ layout: 2 })));
      meta.putSync('prefixes', encodeDocument(JSON.stringify([['c/docs', '!!']])));
      docs.putSync(`!!${RECORD._id}`, encodeDocument(JSON.stringify(RECORD)));
    });
    await env.close();
    const store = await openLmdbStore({ dataDir });
    assert.deepEqual(await store.find('docs', {}), [RECORD]);
    await store.transaction((tx) => tx.insert('docs', { ...RECORD, _id: 'Observation/2' }));
    await store.close();
    const again = await openLmdbStore({ dataDir });
    assert.deepEqual((await again.find('docs', {}, { sort: [['_id', 1]] })).map((d) => d._id), ['Observation/0190a5f4-7c3e-7b21-9d4a-3f6e2b8c1d05', 'Observation/2']);
    await again.close();
    const check = openEnvironment(dataDir, { readOnly: true });
    assert.equal(check.meta.getBinary(META_DICTIONARY_KEY), undefined);
    await check.env.close();
  });
});
