/** https://hl7.org/fhir/R4/http.html#read and #vread */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('read and vread (http.html#read, #vread)', () => {
  let s: TestServer;
  let id: string;
  before(async () => {
    s = await startTestServer();
    const created = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    id = created.body.id;
    await s.http.put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(patient({ id, gender: 'female' }));
  });
  after(() => s.close());

  it('read returns the current version with ETag, Last-Modified and application/fhir+json', async () => {
    const res = await s.http.get(`/fhir/Patient/${id}`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/fhir\+json/);
    assert.equal(res.headers.etag, 'W/"2"');
    assert.equal(res.body.gender, 'female');
    assert.equal(res.body.meta.versionId, '2');
    assert.equal(res.headers['last-modified'], new Date(res.body.meta.lastUpdated).toUTCString());
  });

  it('vread returns an earlier version unchanged', async () => {
    const res = await s.http.get(`/fhir/Patient/${id}/_history/1`);
    assert.equal(res.status, 200);
    assert.equal(res.body.gender, 'male');
    assert.equal(res.body.meta.versionId, '1');
    assert.equal(res.headers.etag, 'W/"1"');
  });

  it('read of an unknown id is 404 with an OperationOutcome', async () => {
    const res = await s.http.get('/fhir/Patient/does-not-exist');
    assert.equal(res.status, 404);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal(res.body.issue[0].code, 'not-found');
  });

  it('vread of a version that does not exist is 404; a malformed version id is 400', async () => {
    assert.equal((await s.http.get(`/fhir/Patient/${id}/_history/9`)).status, 404);
    assert.equal((await s.http.get(`/fhir/Patient/${id}/_history/x1`)).status, 400);
  });

  it('read of an unknown resource type is 404', async () => {
    const res = await s.http.get('/fhir/Patients/1');
    assert.equal(res.status, 404);
    assert.match(res.body.issue[0].diagnostics, /Unknown resource type 'Patients'/);
  });

  it('read with an invalid id is 400', async () => {
    const res = await s.http.get(`/fhir/Patient/${'x'.repeat(65)}`);
    assert.equal(res.status, 400);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });

  it('conditional read: If-None-Match with the current ETag is 304', async () => {
    const res = await s.http.get(`/fhir/Patient/${id}`).set('If-None-Match', 'W/"2"');
    assert.equal(res.status, 304);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`).set('If-None-Match', 'W/"1"')).status, 200);
  });

  it('conditional read: If-Modified-Since at or after lastUpdated is 304, before it 200', async () => {
    const current = await s.http.get(`/fhir/Patient/${id}`);
    const lastModified = current.headers['last-modified'];
    assert.equal((await s.http.get(`/fhir/Patient/${id}`).set('If-Modified-Since', lastModified)).status, 304);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`).set('If-Modified-Since', 'Mon, 01 Jan 2001 00:00:00 GMT')).status, 200);
  });

  it('read of a deleted resource is 410 Gone; its earlier versions stay readable', async () => {
    const created = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const gone = created.body.id;
    assert.equal((await s.http.delete(`/fhir/Patient/${gone}`)).status, 204);
    const res = await s.http.get(`/fhir/Patient/${gone}`);
    assert.equal(res.status, 410);
    assert.equal(res.body.issue[0].code, 'deleted');
    assert.equal((await s.http.get(`/fhir/Patient/${gone}/_history/1`)).status, 200);
    assert.equal((await s.http.get(`/fhir/Patient/${gone}/_history/2`)).status, 410);
  });
});
