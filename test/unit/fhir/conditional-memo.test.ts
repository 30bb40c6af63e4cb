/** Conditional references reused across transaction Bundles (src/fhir/conditional-memo.ts). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConditionalMemo } from '../../../src/fhir/conditional-memo';
import { createStore } from '../../../src/storage/create-store';
import type { Store } from '../../../src/storage/port';
import { RESOURCES } from '../../../src/storage/records';

describe('ConditionalMemo', () => {
  let base: Store;
  let revision = 0;
  let memo: ConditionalMemo;
  let store: Store;
  before(async () => {
    base = await createStore({});
    memo = new ConditionalMemo(() => revision);
    store = memo.track(base);
  });
  after(() => base.close());

  const criteria: Array<[string, string]> = [['identifier', 'http://x|1']];
  /** Resolves through the memo, counting the searches it could not spare. */
  const resolver = () => {
    let searches = 0;
    const resolve = () =>
      memo.resolve('Practitioner', criteria, async () => {
        searches++;
        return ['Practitioner/a'];
      });
    return { resolve, searches: () => searches };
  };
  const write = (id: string) => store.transaction((tx) => tx.insert(RESOURCES, { _id: id }).then(() => undefined));

  it('searches once for the same criteria until something changes', async () => {
    const r = resolver();
    assert.deepEqual(await r.resolve(), ['Practitioner/a']);
    assert.deepEqual(await r.resolve(), ['Practitioner/a']);
    assert.deepEqual(await memo.resolve('Practitioner', [...criteria], async () => assert.fail('searched again')), ['Practitioner/a']);
    assert.equal(r.searches(), 1);
  });

  it('searches again after a write of the same type, not after one of another type', async () => {
    const r = resolver();
    await r.resolve();
    await write('Observation/o1');
    await r.resolve();
    assert.equal(r.searches(), 0, 'a write of another type keeps the resolution');
    await write('Practitioner/p1');
    await r.resolve();
    await r.resolve();
    assert.equal(r.searches(), 1);
  });

  it('keeps nothing found while a transaction that wrote the type is unsettled, nor after it rolled back', async () => {
    await write('Practitioner/p2');
    const r = resolver();
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.insert(RESOURCES, { _id: 'Practitioner/p3' });
        await r.resolve();
        await r.resolve();
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.equal(r.searches(), 2, 'not reused inside the transaction that wrote the type');
    await r.resolve();
    assert.equal(r.searches(), 3, 'what it found then is not kept');
    await r.resolve();
    assert.equal(r.searches(), 3);
  });

  it('searches again once the SearchParameter registry changed (criteria may mean something else)', async () => {
    const r = resolver();
    await r.resolve();
    revision++;
    await r.resolve();
    await r.resolve();
    assert.equal(r.searches(), 1);
  });

  it('passes every other member of the store through', () => {
    assert.equal(store.kind, base.kind);
    assert.equal(typeof store.find, 'function');
  });
});
