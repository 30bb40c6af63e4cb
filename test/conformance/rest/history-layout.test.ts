/**
 * Each version body is stored once (layout: src/storage/records.ts): past versions in `history`, the current
 * one only in `resources`; vread and history still return every version (https://hl7.org/fhir/R4/http.html#vread,
 * https://hl7.org/fhir/R4/http.html#history).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../../src/storage/port';
import { HISTORY, RESOURCES, type HistoryRecord, type ResourceRecord } from '../../../src/storage/records';
import { openTestStore } from '../../fixtures/store';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

type Body = { id: string; gender?: string; meta: { versionId: string } };

/** The store, counting the queries made on the `resources` collection. */
function countingResourceFinds(store: Store): { store: Store; finds: () => number } {
  let finds = 0;
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== 'find' && name !== 'findOne') return typeof value === 'function' ? value.bind(target) : value;
      return (collection: string, ...rest: unknown[]) => {
        if (collection === RESOURCES) finds++;
        return (value as (...args: unknown[]) => unknown).call(target, collection, ...rest);
      };
    },
  });
  return { store: counted, finds: () => finds };
}

describe('history layout: each version body stored once', () => {
  let s: TestServer;
  let counter: ReturnType<typeof countingResourceFinds>;
  let deleted: string;
  let updated: string;
  const written = new Map<string, Body>();

  before(async () => {
    counter = countingResourceFinds(await openTestStore());
    s = await startTestServer({ store: counter.store });
    const created = (await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ gender: 'male' }))).body as Body;
    deleted = created.id;
    written.set(`${deleted}/1`, created);
    const second = (await s.http.put(`/fhir/Patient/${deleted}`).set('Content-Type', FHIR_JSON).send(patient({ id: deleted, gender: 'female' }))).body as Body;
    written.set(`${deleted}/2`, second);
    assert.equal((await s.http.delete(`/fhir/Patient/${deleted}`)).status, 204);

    const other = (await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ gender: 'other' }))).body as Body;
    updated = other.id;
    written.set(`${updated}/1`, other);
    const latest = (await s.http.put(`/fhir/Patient/${updated}`).set('Content-Type', FHIR_JSON).send(patient({ id: updated, gender: 'unknown' }))).body as Body;
    written.set(`${updated}/2`, latest);
  });
  after(() => s.close());

  const entries = async (id: string): Promise<HistoryRecord[]> =>
    (await s.store.find(HISTORY, { type: 'Patient', id }, { sort: [['versionId', 1]] })) as HistoryRecord[];

  it('after create, update and delete, history holds the body of each past version and none for the tombstone', async () => {
    const versions = await entries(deleted);
    assert.deepEqual(
      versions.map((v) => [v.versionId, v.method, v.deleted, (v.resource as Body | null)?.gender ?? null]),
      [
        [1, 'POST', false, 'male'],
        [2, 'PUT', false, 'female'],
        [3, 'DELETE', true, null],
      ],
    );
  });

  it('the current version has no body in history; its body is the current record', async () => {
    const versions = await entries(updated);
    assert.deepEqual(
      versions.map((v) => [v.versionId, v.deleted, (v.resource as Body | null)?.gender ?? null]),
      [
        [1, false, 'other'],
        [2, false, null],
      ],
    );
    const record = (await s.store.findOne(RESOURCES, { _id: `Patient/${updated}` })) as ResourceRecord;
    assert.equal(record.versionId, 2);
    assert.equal((record.resource as unknown as Body).gender, 'unknown');
  });

  it('vread returns every version exactly as written, the current one included', async () => {
    for (const [key, body] of written) {
      const res = await s.http.get(`/fhir/Patient/${key.replace('/', '/_history/')}`);
      assert.equal(res.status, 200, key);
      assert.deepEqual(res.body, body, key);
    }
    assert.equal((await s.http.get(`/fhir/Patient/${deleted}/_history/3`)).status, 410);
  });

  it('history returns the bodies as written, current versions included', async () => {
    const res = await s.http.get('/fhir/Patient/_history');
    const resources = (res.body.entry as Array<{ resource?: Body }>).map((e) => e.resource ?? null);
    assert.deepEqual(resources, [written.get(`${updated}/2`), written.get(`${updated}/1`), null, written.get(`${deleted}/2`), written.get(`${deleted}/1`)]);
  });

  it('a history page looks the current bodies up in one query', async () => {
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ gender: 'male' }));
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ gender: 'female' }));
    const before = counter.finds();
    const res = await s.http.get('/fhir/Patient/_history?_count=3');
    assert.equal(res.body.entry.length, 3);
    assert.ok(res.body.entry.every((e: { resource?: Body }) => e.resource !== undefined));
    assert.equal(counter.finds() - before, 1);
  });

  it('paging through history keeps the body of a version that was current on the first page', async () => {
    const first = await s.http.get(`/fhir/Patient/${updated}/_history?_count=1`);
    assert.equal(first.body.entry[0].resource.meta.versionId, '2');
    await s.http.put(`/fhir/Patient/${updated}`).set('Content-Type', FHIR_JSON).send(patient({ id: updated, gender: 'female' }));
    const again = await s.http.get(`/fhir/Patient/${updated}/_history/2`);
    assert.deepEqual(again.body, written.get(`${updated}/2`));
    const next = (first.body.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next')!;
    const page = await s.http.get(new URL(next.url).pathname.replace(/^.*?\/fhir/, '/fhir') + new URL(next.url).search);
    assert.deepEqual(page.body.entry.map((e: { resource: Body }) => e.resource), [written.get(`${updated}/1`)]);
  });
});
