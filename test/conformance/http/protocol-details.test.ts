/** Protocol details integrators trip over: Allow on 405, _summary/_elements on read and vread, 415 on a JSON _search, HSTS only over https. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const SUBSETTED = 'SUBSETTED';

describe('protocol details', () => {
  let s: TestServer;
  let id: string;
  before(async () => {
    s = await startTestServer();
    const created = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Peter</div>' }, maritalStatus: { text: 'married' } }));
    id = created.body.id;
  });
  after(() => s.close());

  it('405 carries an Allow header with the methods the path supports (RFC 9110 §15.5.6)', async () => {
    const metadata = await s.http.delete('/fhir/metadata');
    assert.equal(metadata.status, 405);
    assert.equal(metadata.headers.allow, 'GET, HEAD');
    assert.equal(metadata.body.resourceType, 'OperationOutcome');
    const instance = await s.http.post(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(patient());
    assert.equal(instance.status, 405);
    assert.deepEqual(instance.headers.allow.split(', ').sort(), ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']);
  });

  it('read honours _summary=true, _summary=data and _elements, marking the result SUBSETTED (search.html#summary)', async () => {
    const summary = await s.http.get(`/fhir/Patient/${id}?_summary=true`);
    assert.equal(summary.status, 200);
    assert.equal(summary.body.text, undefined);
    assert.equal(summary.body.maritalStatus, undefined, 'maritalStatus is not a summary element');
    assert.deepEqual(summary.body.name, [{ family: 'Chalmers', given: ['Peter', 'James'] }]);
    assert.ok(summary.body.meta.tag.some((t: { code: string }) => t.code === SUBSETTED));
    const data = await s.http.get(`/fhir/Patient/${id}?_summary=data`);
    assert.equal(data.body.text, undefined);
    assert.deepEqual(data.body.maritalStatus, { text: 'married' });
    const elements = await s.http.get(`/fhir/Patient/${id}?_elements=gender`);
    assert.deepEqual(Object.keys(elements.body).sort(), ['gender', 'id', 'meta', 'resourceType']);
    const full = await s.http.get(`/fhir/Patient/${id}?_summary=false`);
    assert.ok(full.body.text && full.body.maritalStatus);
    assert.equal(full.body.meta.tag, undefined);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`)).body.meta.tag, undefined, 'the stored resource is not changed');
  });

  it('vread honours _summary and _elements too; _summary=count is refused on a read', async () => {
    const version = await s.http.get(`/fhir/Patient/${id}/_history/1?_elements=birthDate`);
    assert.equal(version.status, 200);
    assert.deepEqual(Object.keys(version.body).sort(), ['birthDate', 'id', 'meta', 'resourceType']);
    assert.equal((await s.http.get(`/fhir/Patient/${id}/_history/1?_summary=text`)).body.name, undefined);
    const count = await s.http.get(`/fhir/Patient/${id}?_summary=count`);
    assert.equal(count.status, 400);
    assert.deepEqual(count.body.issue[0].expression, ['_summary']);
  });

  it('POST _search with a JSON body is 415: the parameters must be a form (http.html#search)', async () => {
    const res = await s.http.post('/fhir/Patient/_search').set('Content-Type', FHIR_JSON).send({ name: 'Chalmers' });
    assert.equal(res.status, 415);
    assert.match(res.body.issue[0].diagnostics, /application\/x-www-form-urlencoded/);
    const system = await s.http.post('/fhir/_search').set('Content-Type', 'application/json').send({ _type: 'Patient' });
    assert.equal(system.status, 415);
    const form = await s.http.post('/fhir/Patient/_search').set('Content-Type', 'application/x-www-form-urlencoded').send('family=Chalmers');
    assert.equal(form.status, 200);
    assert.equal(form.body.entry.length, 1);
  });

  it('HSTS and upgrade-insecure-requests only when BASE_URL is https', async () => {
    const plain = await s.http.get('/fhir/metadata');
    assert.equal(plain.headers['strict-transport-security'], undefined);
    assert.doesNotMatch(plain.headers['content-security-policy'], /upgrade-insecure-requests/);
    const secure = await startTestServer({ env: { BASE_URL: 'https://fhir.example.org/fhir' } });
    try {
      const res = await secure.http.get('/fhir/metadata');
      assert.match(res.headers['strict-transport-security'], /max-age=\d+/);
      assert.match(res.headers['content-security-policy'], /upgrade-insecure-requests/);
    } finally {
      await secure.close();
    }
  });
});
