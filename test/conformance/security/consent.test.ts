/**
 * Patient-privacy Consent decisions through HTTP (https://hl7.org/fhir/R4/consent.html): a clinician's user/
 * token under the implicit policy, opt-out and opt-in consents, nested exceptions, purposes, actors, data
 * periods, sensitive labels, break-the-glass, and a consent change taking effect on the next request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle } from 'fhir/r4';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const PSY = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' };
const RESOURCE_TYPES = 'http://hl7.org/fhir/resource-types';

const observation = (id: string, patient: string, effective: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: id },
  subject: { reference: `Patient/${patient}` },
  effectiveDateTime: effective,
  ...extra,
});

const consent = (id: string, patient: string, provision: Record<string, unknown>, dateTime = '2026-01-01T00:00:00Z') => ({
  resourceType: 'Consent',
  id,
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ text: 'privacy' }],
  patient: { reference: `Patient/${patient}` },
  dateTime,
  policyRule: { text: 'patient preference' },
  provision,
});

const actor = (reference: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference } });

const found = (bundle: Bundle): string[] =>
  (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();
const withheldNotice = (bundle: Bundle): boolean =>
  (bundle.entry ?? []).some((e) => e.resource?.resourceType === 'OperationOutcome' && JSON.stringify(e.resource).includes('withheld'));

describe('consent decisions through HTTP', () => {
  let server: TestServer;
  let clinician: (claims?: Record<string, unknown>) => Promise<ReturnType<TestServer['as']>>;

  const put = async (resource: Record<string, unknown>): Promise<void> => {
    const res = await server.http.put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  };
  const remove = async (ref: string): Promise<void> => {
    assert.equal((await server.http.delete(`/fhir/${ref}`)).status, 204);
  };
  const observationsOf = async (patient: string, claims: Record<string, unknown> = {}): Promise<string[]> => {
    const res = await (await clinician(claims)).get(`/fhir/Observation?subject=Patient/${patient}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return found(res.body);
  };

  before(async () => {
    server = await startTestServer();
    clinician = async (claims = {}) => server.as(await server.token({ scope: 'user/*.cruds', fhirUser: 'Practitioner/dr', ...claims }));
    for (const p of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']) await put({ resourceType: 'Patient', id: p });
    await put({ resourceType: 'Practitioner', id: 'dr' });
    await put({ resourceType: 'Practitioner', id: 'other' });
    for (const p of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']) {
      await put(observation(`${p}-old`, p, '2020-05-01'));
      await put(observation(`${p}-new`, p, '2025-05-01'));
    }
    await put(observation('p1-psy', 'p1', '2025-06-01', { meta: { security: [PSY] } }));
  });
  after(() => server.close());

  it('no consent on file: treatment is opt-out (permitted), research is opt-in (withheld); sensitive labels withheld', async () => {
    assert.deepEqual(await observationsOf('p1'), ['Observation/p1-new', 'Observation/p1-old']);
    assert.deepEqual(await observationsOf('p1', { purpose_of_use: 'HRESCH' }), []);
    const patientApp = server.as(await server.token({ scope: 'patient/*.rs', patient: 'p1' }));
    assert.ok(found((await patientApp.get('/fhir/Observation')).body).includes('Observation/p1-psy'), 'the patient sees their own sensitive record');
    assert.equal((await (await clinician()).get('/fhir/Observation/p1-psy')).status, 404);
  });

  it('opt-out consent withholds the patient from clinicians; a search says so without saying what; read answers 404', async () => {
    await put(consent('c2', 'p2', { type: 'deny' }));
    const res = await (await clinician()).get('/fhir/Observation?code:text=p2');
    assert.deepEqual(found(res.body), []);
    assert.ok(withheldNotice(res.body), 'the clinician is told that records were withheld');
    assert.ok(!JSON.stringify(res.body).includes('p2-'), 'the notice names no record');
    assert.equal((await (await clinician()).get('/fhir/Observation/p2-new')).status, 404);
    assert.deepEqual(await observationsOf('p1'), ['Observation/p1-new', 'Observation/p1-old'], 'other patients are unaffected');
  });

  it('break-the-glass (purpose ETREAT with a justification) overrides the denial; without a justification it does not', async () => {
    assert.deepEqual(await observationsOf('p2', { purpose_of_use: 'ETREAT', btg_justification: 'unconscious in the ED' }), ['Observation/p2-new', 'Observation/p2-old']);
    assert.deepEqual(await observationsOf('p2', { purpose_of_use: 'ETREAT' }), []);
    const patientApp = server.as(await server.token({ scope: 'patient/*.rs', patient: 'p1', purpose_of_use: 'BTG', btg_justification: 'x' }));
    assert.equal((await patientApp.get('/fhir/Observation/p2-new')).status, 404, 'break-the-glass never widens a patient/ token');
  });

  it('nested exceptions and actors: deny everyone except Practitioner/dr', async () => {
    await put(consent('c3', 'p3', { type: 'deny', provision: [{ type: 'permit', actor: [actor('Practitioner/dr')] }] }));
    assert.deepEqual(await observationsOf('p3'), ['Observation/p3-new', 'Observation/p3-old']);
    assert.deepEqual(await observationsOf('p3', { fhirUser: 'Practitioner/other' }), []);
  });

  it('purposes and data periods: research permitted for data since 2024 only', async () => {
    await put(
      consent('c4', 'p4', {
        type: 'deny',
        provision: [{ type: 'permit', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }], class: [{ system: RESOURCE_TYPES, code: 'Observation' }], dataPeriod: { start: '2024-01-01' } }],
      }),
    );
    assert.deepEqual(await observationsOf('p4', { purpose_of_use: 'HRESCH' }), ['Observation/p4-new']);
    assert.deepEqual(await observationsOf('p4'), [], 'treatment is not a purpose this consent permits');
  });

  it('sensitive labels: a consent provision naming the label permits it for that actor', async () => {
    await put(consent('c1', 'p1', { type: 'permit', provision: [{ type: 'permit', actor: [actor('Practitioner/dr')], securityLabel: [PSY] }] }));
    assert.equal((await (await clinician()).get('/fhir/Observation/p1-psy')).status, 200);
    assert.equal((await (await clinician({ fhirUser: 'Practitioner/other' })).get('/fhir/Observation/p1-psy')).status, 404);
  });

  it('a consent change takes effect on the next request; the newest consent wins', async () => {
    await put(consent('c5', 'p5', { type: 'deny' }, '2026-01-01T00:00:00Z'));
    assert.deepEqual(await observationsOf('p5'), []);
    await put(consent('c5b', 'p5', { type: 'permit' }, '2026-02-01T00:00:00Z'));
    assert.deepEqual(await observationsOf('p5'), ['Observation/p5-new', 'Observation/p5-old']);
    await remove('Consent/c5b');
    assert.deepEqual(await observationsOf('p5'), []);
    await put({ ...consent('c5', 'p5', { type: 'deny' }), status: 'inactive' });
    assert.deepEqual(await observationsOf('p5'), ['Observation/p5-new', 'Observation/p5-old']);
  });

  it('a consent with a period applies only within it', async () => {
    await put(consent('c6', 'p6', { type: 'deny', period: { start: '2099-01-01' } }));
    assert.deepEqual(await observationsOf('p6'), ['Observation/p6-new', 'Observation/p6-old']);
  });

  it('actor-only links: an Observation performed by a Patient is in that patient\'s compartment and obeys their consent too', async () => {
    await put(observation('p1-by-p2', 'p1', '2025-07-01', { performer: [{ reference: 'Patient/p2' }] }));
    const p2App = server.as(await server.token({ scope: 'patient/Observation.rs', patient: 'p2' }));
    assert.equal((await p2App.get('/fhir/Observation/p1-by-p2')).status, 200, 'the performing patient sees it');
    assert.equal((await (await clinician()).get('/fhir/Observation/p1-by-p2')).status, 404, "p2's opt-out withholds it although p1 permits");
    assert.equal((await (await clinician()).get('/fhir/Observation/p1-new')).status, 200);
  });
});
