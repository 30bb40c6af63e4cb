/** Search over HTTP: GET and POST _search reach the same search, paging links are followable (https://hl7.org/fhir/R4/http.html#search). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle } from 'fhir/r4';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../../fixtures/server';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  for (const family of ['Alpha', 'Bravo', 'Charlie']) {
    const res = await server.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ name: [{ family }] }));
    assert.equal(res.status, 201);
  }
});
after(() => server.close());

const families = (bundle: Bundle): string[] =>
  (bundle.entry ?? []).map((e) => (e.resource as { name: Array<{ family: string }> }).name[0].family);

test('GET type search pages through the set by its next links', async () => {
  const first = await server.http.get('/fhir/Patient?_sort=-family&_count=2').set('Accept', FHIR_JSON);
  assert.equal(first.status, 200);
  const page1 = first.body as Bundle;
  assert.equal(page1.type, 'searchset');
  assert.deepEqual(families(page1), ['Charlie', 'Bravo']);
  const next = new URL(page1.link!.find((l) => l.relation === 'next')!.url);
  const second = await server.http.get(next.pathname + next.search).set('Accept', FHIR_JSON);
  assert.equal(second.status, 200);
  assert.deepEqual(families(second.body as Bundle), ['Alpha']);
});

test('POST _search with a form body gives the same result as GET', async () => {
  const res = await server.http.post('/fhir/Patient/_search').type('form').send('family=bravo');
  assert.equal(res.status, 200);
  assert.deepEqual(families(res.body as Bundle), ['Bravo']);
});

test('a damaged _page token is answered 400 with an OperationOutcome', async () => {
  const res = await server.http.get('/fhir/Patient?_count=2&_page=garbage').set('Accept', FHIR_JSON);
  assert.equal(res.status, 400);
  assert.equal(res.body.resourceType, 'OperationOutcome');
});
