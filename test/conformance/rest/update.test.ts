/** https://hl7.org/fhir/R4/http.html#update, #concurrency and #cond-update */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE_URL, FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('update (http.html#update)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());
  const put = (id: string, body: unknown) => s.http.put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(body as object);

  it('update-as-create with a client-chosen id answers 201, then an update answers 200 with version 2', async () => {
    const created = await put('pat-1', patient({ id: 'pat-1' }));
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, `${BASE_URL}/Patient/pat-1/_history/1`);
    const updated = await put('pat-1', patient({ id: 'pat-1', gender: 'other' }));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.meta.versionId, '2');
    assert.equal(updated.headers.etag, 'W/"2"');
    assert.equal(updated.headers.location, `${BASE_URL}/Patient/pat-1/_history/2`);
  });

  it('a body without id, or with an id other than the URL, is 400', async () => {
    const body = patient();
    assert.equal((await put('pat-2', body)).status, 400);
    const mismatch = await put('pat-2', patient({ id: 'other' }));
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.body.issue[0].diagnostics, /does not match/);
    assert.equal((await s.http.get('/fhir/Patient/pat-2')).status, 404, 'nothing was created');
  });

  it('If-Match with the current version updates; a stale version is 412 and changes nothing', async () => {
    await put('pat-3', patient({ id: 'pat-3' }));
    const ok = await s.http.put('/fhir/Patient/pat-3').set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(patient({ id: 'pat-3', gender: 'female' }));
    assert.equal(ok.status, 200);
    const stale = await s.http.put('/fhir/Patient/pat-3').set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(patient({ id: 'pat-3', gender: 'other' }));
    assert.equal(stale.status, 412);
    const current = await s.http.get('/fhir/Patient/pat-3');
    assert.equal(current.body.gender, 'female');
    assert.equal(current.body.meta.versionId, '2');
  });

  it('concurrent updates with the same If-Match: exactly one wins, the others get 412 (no lost update)', async () => {
    await put('pat-race', patient({ id: 'pat-race' }));
    const results = await Promise.all(
      ['male', 'female', 'other', 'unknown'].map((gender) =>
        s.http.put('/fhir/Patient/pat-race').set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(patient({ id: 'pat-race', gender })),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 412, 412, 412]);
    const current = await s.http.get('/fhir/Patient/pat-race');
    assert.equal(current.body.meta.versionId, '2');
  });

  it('updating a deleted resource brings it back as a new version (201)', async () => {
    await put('pat-4', patient({ id: 'pat-4' }));
    await s.http.delete('/fhir/Patient/pat-4');
    const revived = await put('pat-4', patient({ id: 'pat-4' }));
    assert.equal(revived.status, 201);
    assert.equal(revived.body.meta.versionId, '3');
  });

  it('an update that fails validation is 400 and leaves the resource unchanged', async () => {
    await put('pat-5', patient({ id: 'pat-5' }));
    const bad = await put('pat-5', patient({ id: 'pat-5', birthDate: 'yesterday' }));
    assert.equal(bad.status, 400);
    assert.equal((await s.http.get('/fhir/Patient/pat-5')).body.meta.versionId, '1');
  });
});

describe('conditional update (http.html#cond-update)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());
  const condPut = (query: string, body: object) => s.http.put(`/fhir/Patient?${query}`).set('Content-Type', FHIR_JSON).send(body);
  const mrn = (value: string, extra: Record<string, unknown> = {}) => patient({ identifier: [{ system: 'http://example.org/mrn', value }], ...extra });

  it('no match and no id creates with a server id; one match updates that resource', async () => {
    const created = await condPut('identifier=http://example.org/mrn|U1', mrn('U1'));
    assert.equal(created.status, 201);
    const updated = await condPut('identifier=http://example.org/mrn|U1', mrn('U1', { gender: 'female' }));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.id, created.body.id);
    assert.equal(updated.body.meta.versionId, '2');
  });

  it('no match with an id in the body creates the resource with that id', async () => {
    const res = await condPut('identifier=http://example.org/mrn|U2', mrn('U2', { id: 'chosen-u2' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.id, 'chosen-u2');
  });

  it('one match whose id differs from the body id is 400', async () => {
    await condPut('identifier=http://example.org/mrn|U3', mrn('U3'));
    const res = await condPut('identifier=http://example.org/mrn|U3', mrn('U3', { id: 'someone-else' }));
    assert.equal(res.status, 400);
  });

  it('several matches are 412', async () => {
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(mrn('U4'));
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(mrn('U4'));
    assert.equal((await condPut('identifier=http://example.org/mrn|U4', mrn('U4'))).status, 412);
  });

  it('a conditional update without criteria is 400, also when only result parameters are given', async () => {
    assert.equal((await s.http.put('/fhir/Patient').set('Content-Type', FHIR_JSON).send(mrn('U5'))).status, 400);
    assert.equal((await s.http.put('/fhir/Patient?_count=1&_format=json').set('Content-Type', FHIR_JSON).send(mrn('U5'))).status, 400);
  });
});
