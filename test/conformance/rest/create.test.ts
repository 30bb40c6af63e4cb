/** https://hl7.org/fhir/R4/http.html#create and #ccreate */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE_URL, FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('create (http.html#create)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('assigns id, versionId 1 and lastUpdated, answers 201 with Location, ETag and Last-Modified', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ id: 'client-chosen', meta: { versionId: '7' } }));
    assert.equal(res.status, 201);
    const id = res.body.id;
    assert.notEqual(id, 'client-chosen', 'the server ignores an id in the body of a create');
    assert.equal(res.body.meta.versionId, '1');
    assert.match(res.body.meta.lastUpdated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(res.headers.location, `${BASE_URL}/Patient/${id}/_history/1`);
    assert.equal(res.headers.etag, 'W/"1"');
    assert.ok(res.headers['last-modified']);
  });

  it('accepts application/json as well as application/fhir+json', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', 'application/json').send(patient());
    assert.equal(res.status, 201);
  });

  it('Prefer: return=minimal answers with headers and no body', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=minimal').send(patient());
    assert.equal(res.status, 201);
    assert.equal(res.text, '');
    assert.ok(res.headers.location);
  });

  it('Prefer: return=OperationOutcome answers with an OperationOutcome', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(patient());
    assert.equal(res.status, 201);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal(res.body.issue[0].severity, 'information');
  });

  it('a body whose resourceType differs from the URL is 400', async () => {
    const res = await s.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(patient());
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics, /Patient.*Observation/);
  });

  it('an invalid resource is 400 with every problem and its FHIRPath location', async () => {
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Patient', gender: 'mail', birthDate: '1974-13-45', name: [{ given: ['a', 7] }], foo: 1 });
    assert.equal(res.status, 400);
    const expressions = res.body.issue.flatMap((i: { expression?: string[] }) => i.expression ?? []);
    for (const e of ['Patient.gender', 'Patient.birthDate', 'Patient.name[0].given[1]', 'Patient.foo']) {
      assert.ok(expressions.includes(e), `expected an issue at ${e}, got ${expressions.join(', ')}`);
    }
    const history = await s.http.get('/fhir/Patient/_history');
    assert.ok(history.body.entry.every((e: { resource?: { gender?: string } }) => e.resource?.gender !== 'mail'), 'nothing was stored');
  });
});

describe('conditional create (http.html#ccreate)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  const mrn = (value: string) => patient({ identifier: [{ system: 'http://example.org/mrn', value }] });

  it('no match creates; one match returns the existing resource with 200 and creates nothing', async () => {
    const first = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', 'identifier=http://example.org/mrn|A1').send(mrn('A1'));
    assert.equal(first.status, 201);
    const second = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', 'identifier=http://example.org/mrn|A1').send(mrn('A1'));
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
    const history = await s.http.get('/fhir/Patient/_history');
    assert.equal(history.body.entry.length, 1);
  });

  it('several matches are 412 Precondition Failed', async () => {
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(mrn('DUP'));
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(mrn('DUP'));
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', 'identifier=http://example.org/mrn|DUP').send(mrn('DUP'));
    assert.equal(res.status, 412);
  });

  it('criteria on _id and _lastUpdated are understood', async () => {
    const created = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(mrn('B2'));
    const byId = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', `_id=${created.body.id}`).send(mrn('B2'));
    assert.equal(byId.status, 200);
    const future = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', '_lastUpdated=gt2999-01-01').send(mrn('B3'));
    assert.equal(future.status, 201);
  });

  it('an If-None-Exist without criteria is 400', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', '').send(mrn('C1'));
    assert.equal(res.status, 400);
  });
});
