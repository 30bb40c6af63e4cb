/**
 * $validate (https://hl7.org/fhir/R4/resource-operation-validate.html) and the base invariants on the write path
 * (https://hl7.org/fhir/R4/conformance-rules.html#constraints, https://hl7.org/fhir/R4/http.html#2.21.0.9).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

type Issue = { severity: string; code: string; expression?: string[]; details?: { text?: string }; diagnostics?: string };
const keys = (body: { issue: Issue[] }): string[] => body.issue.map((i) => `${i.severity} ${i.details?.text ?? i.code} ${i.expression?.[0] ?? ''}`.trim());

describe('base invariants on writes', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('refuses {"resourceType":"Patient","name":[{}]} with 422 and ele-1 at Patient.name[0]', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', name: [{}] });
    assert.equal(res.status, 422);
    assert.ok(keys(res.body).includes('error ele-1 Patient.name[0]'), JSON.stringify(res.body));
  });

  it('refuses an extension with neither value nor extensions (ext-1), on update too', async () => {
    const res = await s.http.put('/fhir/Patient/p1').set('Content-Type', FHIR_JSON).send(patient({ id: 'p1', extension: [{ url: 'http://example.org/x' }] }));
    assert.equal(res.status, 422);
    assert.ok(keys(res.body).includes('error ext-1 Patient.extension[0]'));
  });

  it('stores a resource that only breaks a warning-level rule (dom-6: no narrative)', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    assert.equal(res.status, 201);
  });

  it('structure errors stay 400', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ active: 'yes' }));
    assert.equal(res.status, 400);
  });
});

describe('$validate (resource-operation-validate.html)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await s.http.put('/fhir/Patient/known').set('Content-Type', FHIR_JSON).send(patient({ id: 'known' }));
  });
  after(() => s.close());

  it('type level: 200 with every issue (errors and warnings), the constraint key and a FHIRPath location', async () => {
    const res = await s.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(patient({ name: [{}], contact: [{ gender: 'male' }] }));
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.deepEqual(keys(res.body).sort(), ['error ele-1 Patient.name[0]', 'error pat-1 Patient.contact[0]', 'warning dom-6 Patient'].sort());
  });

  it('a valid resource answers All OK (plus its warnings), and nothing is stored', async () => {
    const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Peter</div>' };
    const res = await s.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(patient({ text }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.issue.map((i: Issue) => i.severity), ['information']);
    const search = await s.http.get('/fhir/Patient');
    assert.equal(search.body.total, 1, 'only the resource stored in before()');
  });

  it('accepts a Parameters body with resource, mode and profile', async () => {
    const body = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: patient({ name: [{}] }) },
        { name: 'mode', valueCode: 'create' },
        { name: 'profile', valueUri: 'http://example.org/StructureDefinition/unknown' },
      ],
    };
    const res = await s.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(body);
    assert.equal(res.status, 200);
    const issues: Issue[] = res.body.issue;
    assert.ok(issues.some((i) => i.severity === 'error' && i.expression?.[0] === 'Patient.name[0]'));
    assert.ok(issues.some((i) => i.severity === 'warning' && i.code === 'not-supported' && /unknown/.test(i.diagnostics ?? '')), 'an unknown profile is never reported as passed');
  });

  it('a Parameters resource can itself be validated', async () => {
    const res = await s.http.post('/fhir/Parameters/$validate').set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters', parameter: [{ name: 'x', valueString: 'y' }] });
    assert.equal(res.status, 200);
    assert.equal(res.body.issue[0].severity, 'information');
  });

  it('instance level: GET validates the stored version; mode=update checks the id against the URL', async () => {
    const stored = await s.http.get('/fhir/Patient/known/$validate');
    assert.equal(stored.status, 200);
    assert.ok(stored.body.issue.every((i: Issue) => i.severity !== 'error'));
    const mismatch = await s.http.post('/fhir/Patient/known/$validate?mode=update').set('Content-Type', FHIR_JSON).send(patient({ id: 'other' }));
    assert.equal(mismatch.status, 200);
    assert.ok(mismatch.body.issue.some((i: Issue) => i.severity === 'error' && i.expression?.[0] === 'Patient.id'));
    const matching = await s.http.post('/fhir/Patient/known/$validate?mode=update').set('Content-Type', FHIR_JSON).send(patient({ id: 'known' }));
    assert.ok(matching.body.issue.every((i: Issue) => i.severity !== 'error'));
  });

  it('mode=delete answers for an existing resource and 404 for an unknown one', async () => {
    const ok = await s.http.post('/fhir/Patient/known/$validate?mode=delete');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.issue[0].severity, 'information');
    const missing = await s.http.post('/fhir/Patient/nobody/$validate?mode=delete');
    assert.equal(missing.status, 404);
  });

  it('4xx when validation cannot be performed: no resource, a body of another type, an unknown mode', async () => {
    assert.equal((await s.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON)).status, 400);
    assert.equal((await s.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send({ resourceType: 'Observation', status: 'final' })).status, 400);
    assert.equal((await s.http.post('/fhir/Patient/$validate?mode=sideways').set('Content-Type', FHIR_JSON).send(patient())).status, 400);
    assert.equal((await s.http.post('/fhir/Nothing/$validate').set('Content-Type', FHIR_JSON).send(patient())).status, 404);
  });

  it('is listed in the CapabilityStatement', async () => {
    const res = await s.http.get('/fhir/metadata');
    const patientResource = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    assert.ok(patientResource.operation.some((o: { name: string }) => o.name === 'validate'));
  });
});
