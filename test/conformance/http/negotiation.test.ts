/** Content types and formats: https://hl7.org/fhir/R4/http.html#mime-type and #parameters (_format) */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('content negotiation (http.html#mime-type)', () => {
  let s: TestServer;
  let id: string;
  before(async () => {
    s = await startTestServer();
    id = (await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient())).body.id;
  });
  after(() => s.close());

  it('Accept: application/fhir+json and */* get application/fhir+json', async () => {
    for (const accept of [FHIR_JSON, '*/*', 'text/html,application/xhtml+xml,*/*;q=0.8']) {
      const res = await s.http.get(`/fhir/Patient/${id}`).set('Accept', accept);
      assert.equal(res.status, 200, accept);
      assert.match(res.headers['content-type'], /^application\/fhir\+json; charset=utf-8/);
    }
  });

  it('Accept: application/json gets application/json', async () => {
    const res = await s.http.get(`/fhir/Patient/${id}`).set('Accept', 'application/json');
    assert.match(res.headers['content-type'], /^application\/json/);
  });

  it('_format=json and _format=application/fhir+json are honoured and override Accept', async () => {
    assert.equal((await s.http.get(`/fhir/Patient/${id}?_format=json`).set('Accept', 'application/fhir+xml')).status, 200);
    assert.equal((await s.http.get(`/fhir/Patient/${id}?_format=${encodeURIComponent(FHIR_JSON)}`)).status, 200);
  });

  it('XML is answered with 406 and a JSON OperationOutcome', async () => {
    for (const req of [s.http.get(`/fhir/Patient/${id}?_format=xml`), s.http.get(`/fhir/Patient/${id}`).set('Accept', 'application/fhir+xml')]) {
      const res = await req;
      assert.equal(res.status, 406);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /application\/fhir\+json/);
    }
  });

  it('an XML body, an unknown media type or a charset other than UTF-8 is 415', async () => {
    const xml = await s.http.post('/fhir/Patient').set('Content-Type', 'application/fhir+xml').send('<Patient xmlns="http://hl7.org/fhir"/>');
    assert.equal(xml.status, 415);
    assert.match(xml.body.issue[0].diagnostics, /XML/);
    const text = await s.http.post('/fhir/Patient').set('Content-Type', 'text/plain').send('{}');
    assert.equal(text.status, 415);
    const latin1 = await s.http.post('/fhir/Patient').set('Content-Type', 'application/fhir+json; charset=iso-8859-1').send('{"resourceType":"Patient"}');
    assert.equal(latin1.status, 415);
    const utf8 = await s.http.post('/fhir/Patient').set('Content-Type', 'application/fhir+json; charset=UTF-8').send('{"resourceType":"Patient"}');
    assert.equal(utf8.status, 201);
  });

  it('_pretty=true indents the JSON', async () => {
    const res = await s.http.get(`/fhir/Patient/${id}?_pretty=true`);
    assert.match(res.text, /\n  "resourceType"/);
  });
});
