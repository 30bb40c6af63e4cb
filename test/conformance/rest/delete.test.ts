/** https://hl7.org/fhir/R4/http.html#delete and conditional delete */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('delete (http.html#delete)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());
  const create = async (value = 'D') =>
    (await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier: [{ system: 'http://example.org/mrn', value }] }))).body.id as string;

  it('deleting answers 204 with the ETag of the deletion version; history keeps every version', async () => {
    const id = await create();
    const res = await s.http.delete(`/fhir/Patient/${id}`);
    assert.equal(res.status, 204);
    assert.equal(res.headers.etag, 'W/"2"');
    const history = await s.http.get(`/fhir/Patient/${id}/_history`);
    assert.deepEqual(
      history.body.entry.map((e: { request: { method: string } }) => e.request.method),
      ['DELETE', 'POST'],
    );
  });

  it('deleting again changes nothing and still succeeds', async () => {
    const id = await create();
    await s.http.delete(`/fhir/Patient/${id}`);
    assert.equal((await s.http.delete(`/fhir/Patient/${id}`)).status, 204);
    const history = await s.http.get(`/fhir/Patient/${id}/_history`);
    assert.equal(history.body.entry.length, 2);
  });

  it('deleting a resource that never existed is 404', async () => {
    assert.equal((await s.http.delete('/fhir/Patient/never-there')).status, 404);
  });

  it('Prefer: return=OperationOutcome answers 200 with an OperationOutcome', async () => {
    const id = await create();
    const res = await s.http.delete(`/fhir/Patient/${id}`).set('Prefer', 'return=OperationOutcome');
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });

  it('If-Match on delete with a stale version is 412', async () => {
    const id = await create();
    await s.http.put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(patient({ id }));
    assert.equal((await s.http.delete(`/fhir/Patient/${id}`).set('If-Match', 'W/"1"')).status, 412);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`)).status, 200);
  });

  it('conditional delete removes the single match; no match is 204; several matches are 412', async () => {
    const id = await create('CD1');
    assert.equal((await s.http.delete('/fhir/Patient?identifier=http://example.org/mrn|CD1')).status, 204);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`)).status, 410);
    assert.equal((await s.http.delete('/fhir/Patient?identifier=http://example.org/mrn|nobody')).status, 204);
    await create('CD2');
    await create('CD2');
    assert.equal((await s.http.delete('/fhir/Patient?identifier=http://example.org/mrn|CD2')).status, 412);
  });
});
