/** https://hl7.org/fhir/R4/http.html#patch with JSON Patch (RFC 6902) */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const JSON_PATCH = 'application/json-patch+json';

describe('patch (http.html#patch)', () => {
  let s: TestServer;
  let id: string;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());
  const fresh = async () => {
    id = (await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient())).body.id;
    return id;
  };
  const send = (ops: unknown, type = JSON_PATCH) => s.http.patch(`/fhir/Patient/${id}`).set('Content-Type', type).send(JSON.stringify(ops));

  it('applies the operations and writes a new version', async () => {
    await fresh();
    const res = await send([
      { op: 'test', path: '/gender', value: 'male' },
      { op: 'replace', path: '/gender', value: 'female' },
      { op: 'add', path: '/name/0/given/-', value: 'Jim' },
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.body.gender, 'female');
    assert.deepEqual(res.body.name[0].given, ['Peter', 'James', 'Jim']);
    assert.equal(res.body.meta.versionId, '2');
    assert.equal(res.headers.etag, 'W/"2"');
  });

  it('a failed test operation is 422 and changes nothing', async () => {
    await fresh();
    const res = await send([{ op: 'test', path: '/gender', value: 'female' }, { op: 'remove', path: '/name' }]);
    assert.equal(res.status, 422);
    assert.match(res.body.issue[0].diagnostics, /test operation/);
    assert.equal((await s.http.get(`/fhir/Patient/${id}`)).body.meta.versionId, '1');
  });

  it('a patch whose result is invalid FHIR is 400 with the validation issues', async () => {
    await fresh();
    const res = await send([{ op: 'replace', path: '/gender', value: 'mail' }]);
    assert.equal(res.status, 400);
    assert.ok(res.body.issue.some((i: { expression?: string[] }) => i.expression?.includes('Patient.gender')));
  });

  it('a malformed patch document is 400', async () => {
    await fresh();
    assert.equal((await send({ op: 'replace' })).status, 400);
    assert.equal((await send([{ op: 'frobnicate', path: '/gender' }])).status, 400);
  });

  it('changing id or resourceType is refused with 422', async () => {
    await fresh();
    assert.equal((await send([{ op: 'replace', path: '/id', value: 'other' }])).status, 422);
  });

  it('a patch sent as application/fhir+json (FHIRPath Patch) is 415', async () => {
    await fresh();
    assert.equal((await send([{ op: 'remove', path: '/gender' }], FHIR_JSON)).status, 415);
  });

  it('If-Match with a stale version is 412', async () => {
    await fresh();
    const res = await s.http.patch(`/fhir/Patient/${id}`).set('Content-Type', JSON_PATCH).set('If-Match', 'W/"5"').send(JSON.stringify([{ op: 'remove', path: '/gender' }]));
    assert.equal(res.status, 412);
  });

  it('patching a missing resource is 404, a deleted one 410', async () => {
    id = 'nobody';
    assert.equal((await send([{ op: 'remove', path: '/gender' }])).status, 404);
    await fresh();
    await s.http.delete(`/fhir/Patient/${id}`);
    assert.equal((await send([{ op: 'remove', path: '/gender' }])).status, 410);
  });

  it('prototype pollution through patch paths is refused', async () => {
    await fresh();
    const res = await send([{ op: 'add', path: '/__proto__/polluted', value: 'yes' }]);
    assert.equal(res.status, 400);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
