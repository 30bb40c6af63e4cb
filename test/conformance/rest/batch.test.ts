/** Batches: https://hl7.org/fhir/R4/http.html#transaction — each entry on its own. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const batch = (entry: Array<Record<string, unknown>>) => ({ resourceType: 'Bundle', type: 'batch', entry });
const mrn = (value: string) => [{ system: 'http://example.org/mrn', value }];

describe('batch (http.html#transaction)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('a failing entry carries its own status and OperationOutcome and does not stop the others', async () => {
    const res = await s.http
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send(
        batch([
          { resource: patient({ identifier: mrn('batch-1') }), request: { method: 'POST', url: 'Patient' } },
          { resource: patient({ identifier: mrn('batch-2'), gender: 'mail' }), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'GET', url: 'Patient/batch-missing' } },
          { request: { method: 'PUT' } },
          { resource: patient({ id: 'batch-put', identifier: mrn('batch-3') }), request: { method: 'PUT', url: 'Patient/batch-put' } },
        ]),
      );
    assert.equal(res.status, 200);
    assert.equal(res.body.type, 'batch-response');
    const statuses = res.body.entry.map((e: { response: { status: string } }) => e.response.status);
    assert.deepEqual(statuses, ['201 Created', '400 Bad Request', '404 Not Found', '400 Bad Request', '201 Created']);
    const [, invalid, missing, noUrl] = res.body.entry;
    assert.equal(invalid.response.outcome.resourceType, 'OperationOutcome');
    assert.ok(invalid.response.outcome.issue.some((i: { expression?: string[] }) => i.expression?.includes('Patient.gender')));
    assert.match(missing.response.outcome.issue[0].diagnostics, /Patient\/batch-missing does not exist/);
    assert.match(noUrl.response.outcome.issue[0].diagnostics, /Bundle\.entry\[3\]\.request\.url is missing/);
    for (const value of ['batch-1', 'batch-3']) {
      assert.equal((await s.http.get(`/fhir/Patient?identifier=http://example.org/mrn|${value}`)).body.total, 1, `${value} was stored`);
    }
    assert.equal((await s.http.get('/fhir/Patient?identifier=http://example.org/mrn|batch-2')).body.total, 0);
  });

  it('ifNoneExist entries make a re-sent batch create nothing new', async () => {
    const shared = batch(
      ['org-1', 'org-2', 'org-3'].map((value) => ({
        resource: { resourceType: 'Organization', identifier: [{ system: 'http://example.org/org', value }], name: value },
        request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=http://example.org/org|${value}` },
      })),
    );
    const first = await s.http.post('/fhir').set('Content-Type', FHIR_JSON).send(shared);
    const second = await s.http.post('/fhir').set('Content-Type', FHIR_JSON).send(shared);
    assert.deepEqual(first.body.entry.map((e: { response: { status: string } }) => e.response.status), Array(3).fill('201 Created'));
    assert.deepEqual(second.body.entry.map((e: { response: { status: string } }) => e.response.status), Array(3).fill('200 OK'));
    assert.deepEqual(second.body.entry.map((e: { fullUrl: string }) => e.fullUrl), first.body.entry.map((e: { fullUrl: string }) => e.fullUrl));
    assert.equal((await s.http.get('/fhir/Organization?_summary=count')).body.total, 3);
  });
});
