/**
 * Patient/[id]/$everything under access control (https://hl7.org/fhir/R4/patient-operation-everything.html,
 * https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html): the token's filter is in both of its
 * queries and every record that leaves is checked again, as search does. A record of another patient that the
 * compartment references, or one that patient's consent withholds, is returned to a system token and to nobody
 * it is hidden from.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle } from 'fhir/r4';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const observation = (id: string, patient: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: id },
  subject: { reference: `Patient/${patient}` },
  ...extra,
});

const keys = (bundle: Bundle): string[] => (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();

describe('security: Patient $everything returns only what the token may read', () => {
  let server: TestServer;

  const put = async (resource: Record<string, unknown>): Promise<void> => {
    const res = await server.http.put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  };
  const everythingOf = async (agent: ReturnType<TestServer['as']>, patient: string): Promise<string[]> => {
    const res = await agent.get(`/fhir/Patient/${patient}/$everything`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return keys(res.body as Bundle);
  };

  before(async () => {
    server = await startTestServer();
    for (const p of ['p1', 'p2']) await put({ resourceType: 'Patient', id: p });
    await put({ resourceType: 'Practitioner', id: 'dr' });
    await put(observation('p2-glucose', 'p2'));
    // p1's panel has a member that is p2's record (outside p1's compartment: a referenced resource of p1's $everything).
    await put(observation('p1-panel', 'p1', { hasMember: [{ reference: 'Observation/p2-glucose' }], performer: [{ reference: 'Practitioner/dr' }] }));
    // Performed by p2: in both compartments, so p2's consent governs it too.
    await put(observation('p1-by-p2', 'p1', { performer: [{ reference: 'Patient/p2' }] }));
    await put({
      resourceType: 'Consent',
      id: 'p2-opt-out',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ text: 'privacy' }],
      patient: { reference: 'Patient/p2' },
      dateTime: '2026-01-01T00:00:00Z',
      policyRule: { text: 'patient preference' },
      provision: { type: 'deny' },
    });
  });
  after(() => server.close());

  it("a system token's $everything of p1 includes p2's referenced record and the record p2 performed", async () => {
    assert.deepEqual(await everythingOf(server.http, 'p1'), ['Observation/p1-by-p2', 'Observation/p1-panel', 'Observation/p2-glucose', 'Patient/p1', 'Practitioner/dr']);
  });

  it("a patient/ token for p1 gets p1's compartment and shared data, never p2's record that p1's compartment references", async () => {
    const p1App = server.as(await server.token({ scope: 'patient/*.rs', patient: 'p1' }));
    assert.deepEqual(await everythingOf(p1App, 'p1'), ['Observation/p1-by-p2', 'Observation/p1-panel', 'Patient/p1', 'Practitioner/dr']);
    const p2App = server.as(await server.token({ scope: 'patient/*.rs', patient: 'p2' }));
    assert.equal((await p2App.get('/fhir/Patient/p1/$everything')).status, 404, "p1's $everything does not exist for p2's app");
  });

  it("a clinician's $everything of p1 leaves out what p2's opt-out consent withholds, in the compartment and among the referenced records", async () => {
    const clinician = server.as(await server.token({ scope: 'user/*.rs', fhirUser: 'Practitioner/dr' }));
    const found = await everythingOf(clinician, 'p1');
    assert.deepEqual(found, ['Observation/p1-panel', 'Patient/p1', 'Practitioner/dr']);
  });
});
