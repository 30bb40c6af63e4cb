/**
 * Issue 11, accounting of disclosures: a patient's own token (patient/AuditEvent.rs) lists who accessed their
 * record, when, why and under which decision, and nothing about other patients or the trail's own reads.
 * Until access control is wired in, requests carry a constructed RequestAccess through the in-process router.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from 'fhir/r4';
import type { RequestAccess } from '../../../src/access/request-access';
import { accessTokenFromClaims } from '../../../src/access/tokens';
import { LmdbAuditTrail } from '../../../src/audit/lmdb-trail';
import type { FhirRequest } from '../../../src/fhir/types';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const access = (claims: Record<string, unknown>, extra: Partial<RequestAccess> = {}): RequestAccess => ({
  token: accessTokenFromClaims({ exp: Math.floor(Date.now() / 1000) + 600, ...claims }),
  clientAddress: '10.1.2.3',
  decidedBy: new Set(['implicit:permit']),
  ...extra,
});
const get = (path: string[], query: Array<[string, string]>, who: RequestAccess): FhirRequest => ({ method: 'GET', path, query, prefer: {}, access: who });

describe('accounting of disclosures (issue 11)', () => {
  let server: TestServer;
  const doctor = access({ sub: 'dr-who', client_id: 'ehr-app', fhirUser: 'Practitioner/dr1', scope: 'user/*.rs', purpose_of_use: ['TREAT'] });
  before(async () => {
    server = await startTestServer({ auditTrail: LmdbAuditTrail.temporary() });
    for (const id of ['alice', 'bob']) await server.http.put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(patient({ id })).expect(201);
    await server.router.route(get(['Patient', 'alice'], [], doctor));
    await server.router.route(get(['Patient', 'bob'], [], doctor));
    const consented = access({ sub: 'nurse', fhirUser: 'Practitioner/n1', scope: 'user/*.rs' }, { decidedBy: new Set(['Consent/c1']), breakTheGlass: { justification: 'unconscious in ER' } });
    await server.router.route(get(['Patient', 'alice'], [], consented));
  });
  after(() => server.close());

  const alice = access({ sub: 'alice-login', scope: 'patient/AuditEvent.rs', patient: 'alice' });

  it("lists who accessed the patient's record, when, why and under which decision", async () => {
    const res = await server.router.route(get(['AuditEvent'], [['_count', '100']], alice));
    const events = ((res.resource as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    const byDoctor = events.find((e) => e.agent.some((a) => a.who?.reference === 'Practitioner/dr1'));
    assert.ok(byDoctor, "the doctor's read is listed");
    assert.ok(byDoctor.recorded);
    assert.equal(byDoctor.purposeOfEvent?.[0]?.coding?.[0]?.code, 'TREAT');
    const requestor = byDoctor.agent.find((a) => a.requestor)!;
    assert.deepEqual(requestor.policy, ['implicit:permit']);
    assert.equal(requestor.network?.address, '10.1.2.3');
    assert.equal(requestor.altId, 'dr-who');
    assert.ok(byDoctor.agent.some((a) => a.who?.identifier?.value === 'ehr-app'), 'the client app is an agent');
    const btg = events.find((e) => e.agent.some((a) => a.who?.reference === 'Practitioner/n1'));
    assert.ok(btg?.agent.find((a) => a.requestor)?.policy?.includes('Consent/c1'), 'the deciding consent is recorded');
    assert.equal(btg?.extension?.find((x) => x.url.endsWith('audit-break-the-glass'))?.valueString, 'unconscious in ER');
    assert.ok(btg?.purposeOfEvent?.some((p) => p.coding?.[0]?.code === 'BTG'));
  });

  it('shows nothing about other patients and none of the trail’s own reads', async () => {
    await server.router.route(get(['AuditEvent'], [], alice)); // the patient's own look at the trail
    const res = await server.router.route(get(['AuditEvent'], [['_count', '1000']], alice));
    const events = ((res.resource as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    assert.ok(events.length >= 3);
    for (const e of events) {
      const refs = (e.entity ?? []).map((x) => x.what?.reference);
      assert.ok(refs.includes('Patient/alice'), `event ${e.id} concerns alice`);
      assert.ok(!refs.includes('Patient/bob'), `event ${e.id} says nothing about bob`);
      assert.ok(!refs.some((r) => r?.startsWith('AuditEvent/')), `event ${e.id} is not a read of the trail`);
    }
    await assert.rejects(server.router.route(get(['AuditEvent'], [['patient', 'bob']], alice)), /only list the accesses to Patient\/alice/);
    const bobEvent = (await server.router.route(get(['AuditEvent'], [['patient', 'bob']], doctor))).resource as Bundle;
    const id = (bobEvent.entry?.[0]?.resource as AuditEvent).id as string;
    await assert.rejects(server.router.route(get(['AuditEvent', id], [], alice)), /not known/);
    await assert.rejects(server.router.route(get(['AuditEvent', '$archive'], [], alice)), /auditor scope/);
  });

  it('an auditor scope (user/ or system/) sees the whole trail', async () => {
    const auditor = access({ sub: 'auditor', fhirUser: 'Practitioner/a1', scope: 'user/AuditEvent.rs' });
    const res = await server.router.route(get(['AuditEvent'], [['patient', 'bob']], auditor));
    assert.ok(((res.resource as Bundle).entry ?? []).length >= 1);
  });
});
