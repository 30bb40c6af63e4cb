/** Bad input is answered with an OperationOutcome and the right status, and changes nothing. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('bad input (http.html#Status-Codes)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { MAX_BODY_SIZE: '256kb' } });
  });
  after(() => s.close());

  const postRaw = (body: string) => s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(body);
  const assertNothingStored = async () => {
    const history = await s.http.get('/fhir/_history');
    assert.equal(history.body.entry.length, 0, 'nothing was stored');
  };

  it('malformed JSON is 400 with an OperationOutcome and no stack trace', async () => {
    const res = await postRaw('{"resourceType": "Patient",');
    assert.equal(res.status, 400);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.match(res.body.issue[0].diagnostics, /not valid JSON/);
    assert.doesNotMatch(res.text, /at .*\.ts:\d+/);
    await assertNothingStored();
  });

  it('a body over the size limit is 413', async () => {
    const res = await postRaw(JSON.stringify(patient({ text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(270000)}</div>` } })));
    assert.equal(res.status, 413);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });

  it('a body that is not an object, or has no or an unknown resourceType, is 400', async () => {
    assert.equal((await postRaw('[1,2]')).status, 400);
    assert.equal((await postRaw('"Patient"')).status, 400);
    assert.equal((await postRaw('{"gender":"male"}')).status, 400);
    const unknown = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patientt' });
    assert.equal(unknown.status, 400);
    await assertNothingStored();
  });

  it('keys such as __proto__ and constructor are refused with 400', async () => {
    const proto = await postRaw('{"resourceType":"Patient","__proto__":{"admin":true}}');
    assert.equal(proto.status, 400);
    const ctor = await postRaw('{"resourceType":"Patient","name":[{"constructor":{"prototype":{"x":1}}}]}');
    assert.equal(ctor.status, 400);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    await assertNothingStored();
  });

  it('deeply nested JSON is 400, not a crash', async () => {
    const deep = `{"resourceType":"Patient","extension":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await postRaw(deep);
    assert.equal(res.status, 400);
  });

  it('a huge array is 400', async () => {
    const given = JSON.stringify(Array.from({ length: 60000 }, () => ''));
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(`{"resourceType":"Patient","name":[{"given":${given}}]}`);
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics, /array/i);
    await assertNothingStored();
  });

  it('unknown paths and unsupported methods are answered with OperationOutcomes (404, 405)', async () => {
    const path = await s.http.get('/fhir/Patient/1/_history/1/extra');
    assert.equal(path.status, 404);
    assert.equal(path.body.resourceType, 'OperationOutcome');
    const method = await s.http.post('/fhir/metadata').set('Content-Type', FHIR_JSON).send('{}');
    assert.equal(method.status, 405);
    const outside = await s.http.get('/admin');
    assert.equal(outside.status, 404);
    assert.equal(outside.body.resourceType, 'OperationOutcome');
  });

  it('query operators in parameter names do not reach the store', async () => {
    const res = await s.http.get('/fhir/Patient?name[$ne]=x').set('Prefer', 'handling=strict');
    assert.equal(res.status, 400);
  });
});
