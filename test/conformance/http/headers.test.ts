/** Security headers, request ids and logs without patient data. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LogRecord } from '../../../src/http/logger';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

describe('response headers and logging', () => {
  let s: TestServer;
  const logs: LogRecord[] = [];
  before(async () => {
    s = await startTestServer({ logger: { log: (r) => logs.push(r) } });
  });
  after(() => s.close());

  it('every response carries helmet security headers and a request id, errors included', async () => {
    for (const res of [await s.http.get('/fhir/metadata'), await s.http.get('/fhir/Patient/nope'), await s.http.get('/nowhere')]) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.ok(res.headers['content-security-policy']);
      assert.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['x-powered-by'], undefined);
    }
  });

  it('a well-formed client request id is echoed; a malformed one is replaced', async () => {
    assert.equal((await s.http.get('/fhir/metadata').set('X-Request-Id', 'abc-123')).headers['x-request-id'], 'abc-123');
    const replaced = (await s.http.get('/fhir/metadata').set('X-Request-Id', 'bad id <script>')).headers['x-request-id'];
    assert.match(replaced, /^[0-9a-f-]{36}$/);
  });

  it('log lines carry the request id and a route template, never bodies, query strings or ids', async () => {
    logs.length = 0;
    const created = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ name: [{ family: 'Secretname' }] }));
    await s.http.get(`/fhir/Patient/${created.body.id}?_format=json&name=Secretname`);
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{broken Secretname');
    const text = JSON.stringify(logs);
    assert.doesNotMatch(text, /Secretname/);
    assert.ok(!text.includes(created.body.id), 'resource ids are not logged');
    const routes = logs.map((l) => l.route);
    assert.ok(routes.includes('/fhir/Patient'));
    assert.ok(routes.includes('/fhir/Patient/:id'));
    assert.ok(logs.every((l) => typeof l.requestId === 'string'));
  });
});
