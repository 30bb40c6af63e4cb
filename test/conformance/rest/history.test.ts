/** https://hl7.org/fhir/R4/http.html#history */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE_URL, FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

type Entry = { fullUrl: string; resource?: { id: string; meta: { versionId: string; lastUpdated: string } }; request: { method: string; url: string }; response: { status: string; etag: string } };

describe('history (http.html#history)', () => {
  let s: TestServer;
  let a: string;
  before(async () => {
    s = await startTestServer();
    a = (await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient())).body.id;
    await s.http.put(`/fhir/Patient/${a}`).set('Content-Type', FHIR_JSON).send(patient({ id: a, gender: 'female' }));
    await s.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send({ resourceType: 'Observation', status: 'final', code: { text: 'weight' } });
    await s.http.delete(`/fhir/Patient/${a}`);
  });
  after(() => s.close());

  it('instance history lists every version newest first, deletions included', async () => {
    const res = await s.http.get(`/fhir/Patient/${a}/_history`);
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'Bundle');
    assert.equal(res.body.type, 'history');
    const entries: Entry[] = res.body.entry;
    assert.deepEqual(entries.map((e) => e.request.method), ['DELETE', 'PUT', 'POST']);
    assert.deepEqual(entries.map((e) => e.response.etag), ['W/"3"', 'W/"2"', 'W/"1"']);
    assert.equal(entries[0]?.resource, undefined);
    assert.equal(entries[1]?.resource?.meta.versionId, '2');
    assert.equal(entries[2]?.fullUrl, `${BASE_URL}/Patient/${a}`);
    assert.equal(entries[2]?.response.status, '201 Created');
  });

  it('type history lists only that type; system history lists every type', async () => {
    const type = await s.http.get('/fhir/Patient/_history');
    assert.ok(type.body.entry.every((e: Entry) => e.fullUrl.includes('/Patient/')));
    assert.equal(type.body.entry.length, 3);
    const system = await s.http.get('/fhir/_history');
    assert.equal(system.body.entry.length, 4);
  });

  it('_since keeps versions written at or after the instant', async () => {
    const since = (await s.http.get(`/fhir/Patient/${a}/_history/2`)).body.meta.lastUpdated as string;
    const res = await s.http.get(`/fhir/_history?_since=${encodeURIComponent(since)}`);
    assert.equal(res.body.entry.length, 3);
  });

  it('_at gives the version current at that instant', async () => {
    const v2 = (await s.http.get(`/fhir/Patient/${a}/_history/2`)).body.meta.lastUpdated as string;
    const res = await s.http.get(`/fhir/Patient/${a}/_history?_at=${encodeURIComponent(v2)}`);
    assert.deepEqual(res.body.entry.map((e: Entry) => e.response.etag), ['W/"2"']);
  });

  it('_at with a date gives every version current at some point during that period', async () => {
    const v1 = (await s.http.get(`/fhir/Patient/${a}/_history/1`)).body.meta.lastUpdated as string;
    const day = v1.slice(0, 10);
    const sameDay = await s.http.get(`/fhir/Patient/${a}/_history?_at=${day}`);
    assert.deepEqual(sameDay.body.entry.map((e: Entry) => e.response.etag), ['W/"3"', 'W/"2"', 'W/"1"']);
    const year = Number(day.slice(0, 4));
    const later = await s.http.get(`/fhir/Patient/${a}/_history?_at=${year + 1}`);
    assert.deepEqual(later.body.entry.map((e: Entry) => e.response.etag), ['W/"3"'], 'the deletion was current next year');
    const earlier = await s.http.get(`/fhir/Patient/${a}/_history?_at=${year - 1}`);
    assert.deepEqual(earlier.body.entry, [], 'nothing existed the year before');
  });

  it('_count pages with next/previous links; paging stays stable while new versions are written', async () => {
    const first = await s.http.get('/fhir/_history?_count=2');
    assert.equal(first.body.entry.length, 2);
    const next = first.body.link.find((l: { relation: string }) => l.relation === 'next');
    assert.ok(next, 'a next link');
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const second = await s.http.get(new URL(next.url).pathname + new URL(next.url).search);
    const seen = [...first.body.entry, ...second.body.entry].map((e: Entry) => `${e.fullUrl}|${e.response.etag}`);
    assert.equal(new Set(seen).size, 4, 'no duplicates');
    assert.equal(second.body.link.find((l: { relation: string }) => l.relation === 'next'), undefined, 'the write made after the first page does not appear');
    const previous = second.body.link.find((l: { relation: string }) => l.relation === 'previous');
    const back = await s.http.get(new URL(previous.url).pathname + new URL(previous.url).search);
    assert.deepEqual(
      back.body.entry.map((e: Entry) => e.response.etag + e.fullUrl),
      first.body.entry.map((e: Entry) => e.response.etag + e.fullUrl),
    );
  });

  it('a forged cursor, an unknown parameter and a malformed _since are 400', async () => {
    assert.equal((await s.http.get('/fhir/_history?_cursor=garbage')).status, 400);
    assert.equal((await s.http.get('/fhir/_history?foo=1')).status, 400);
    assert.equal((await s.http.get('/fhir/_history?_since=yesterday')).status, 400);
    assert.equal((await s.http.get('/fhir/_history?_at=2024-13')).status, 400);
  });
});
