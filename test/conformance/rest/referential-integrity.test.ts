/**
 * Referential integrity (REFERENTIAL_INTEGRITY=off|write|write-delete, https://hl7.org/fhir/R4/references.html):
 * off accepts dangling references; write refuses (422, naming the element) a literal reference into this server
 * whose target does not exist or whose type the element's targetProfile does not allow; write-delete also
 * refuses (409, naming referrers) deleting a resource current resources refer to. The check runs once per store
 * transaction, after all its writes, so a transaction may write a referrer before its target.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FhirContext } from '../../../src/fhir/context';
import { inTransaction, writeVersion } from '../../../src/fhir/persist';
import { BASE_URL, FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const observation = (subject: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'weight' },
  subject: { reference: subject },
  ...extra,
});

async function withServer(mode: string | undefined, run: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startTestServer(mode ? { env: { REFERENTIAL_INTEGRITY: mode } } : {});
  try {
    await run(s);
  } finally {
    await s.close();
  }
}

const post = (s: TestServer, type: string, body: object) => s.http.post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(body);

describe('referential integrity', () => {
  it('is off by default: a reference to a missing resource is accepted (regional sync loads referrers first)', async () => {
    await withServer(undefined, async (s) => {
      assert.equal((await post(s, 'Observation', observation('Patient/nope'))).status, 201);
    });
  });

  it('write: a reference to a resource that does not exist is 422 naming the element', async () => {
    await withServer('write', async (s) => {
      const res = await post(s, 'Observation', observation('Patient/nope'));
      assert.equal(res.status, 422);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.deepEqual(res.body.issue[0].expression, ['Observation.subject']);
      assert.match(res.body.issue[0].diagnostics, /Patient\/nope, which does not exist/);
      const absolute = await post(s, 'Observation', observation(`${BASE_URL}/Patient/nope`));
      assert.equal(absolute.status, 422, 'an absolute URL with this server base is a reference into this server');
      assert.equal((await s.http.get('/fhir/Observation')).body.total, 0, 'nothing was stored');
    });
  });

  it('write: a reference of a type the targetProfile does not allow is 422 naming the element', async () => {
    await withServer('write', async (s) => {
      const medication = await post(s, 'Medication', { resourceType: 'Medication', code: { text: 'aspirin' } });
      const res = await post(s, 'MedicationRequest', {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text: 'aspirin' },
        subject: { reference: `Medication/${medication.body.id}` },
      });
      assert.equal(res.status, 422);
      assert.deepEqual(res.body.issue[0].expression, ['MedicationRequest.subject']);
      assert.match(res.body.issue[0].diagnostics, /may refer only to Patient, Group/);
    });
  });

  it('write: references that exist, point elsewhere or are contained are accepted; nested elements are checked too', async () => {
    await withServer('write', async (s) => {
      const p = await post(s, 'Patient', patient());
      const ok = await post(
        s,
        'Observation',
        observation(`Patient/${p.body.id}`, {
          performer: [{ reference: 'http://other.example.org/fhir/Practitioner/1' }, { reference: '#org' }],
          contained: [{ resourceType: 'Organization', id: 'org', name: 'Lab' }],
          note: [{ text: 'ok', authorReference: { reference: `Patient/${p.body.id}` } }],
        }),
      );
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const nested = await post(s, 'Observation', observation(`Patient/${p.body.id}`, { note: [{ text: 'x', authorReference: { reference: 'Practitioner/missing' } }] }));
      assert.equal(nested.status, 422);
      assert.deepEqual(nested.body.issue[0].expression, ['Observation.note[0].authorReference']);
      const inExtension = await post(s, 'Patient', patient({ extension: [{ url: 'http://example.org/x', valueReference: { reference: 'Organization/missing' } }] }));
      assert.equal(inExtension.status, 422);
      assert.deepEqual(inExtension.body.issue[0].expression, ['Patient.extension[0].valueReference']);
      assert.equal((await s.http.delete(`/fhir/Patient/${p.body.id}`)).status, 204, 'write mode does not check deletes');
      const toDeleted = await post(s, 'Observation', observation(`Patient/${p.body.id}`));
      assert.equal(toDeleted.status, 422, 'a deleted target does not exist');
    });
  });

  it('write-delete: deleting a referenced resource is 409 listing referrers; once they are gone it succeeds', async () => {
    await withServer('write-delete', async (s) => {
      const p = await post(s, 'Patient', patient());
      const refs = [];
      for (let i = 0; i < 5; i++) refs.push((await post(s, 'Observation', observation(`Patient/${p.body.id}`))).body.id as string);
      const refused = await s.http.delete(`/fhir/Patient/${p.body.id}`);
      assert.equal(refused.status, 409);
      assert.match(refused.body.issue[0].diagnostics, new RegExp(`Patient/${p.body.id} cannot be deleted: current resources refer to it \\(Observation/[^,]+, Observation/[^,]+, Observation/[^,]+ and more\\)`));
      assert.equal((await s.http.get(`/fhir/Patient/${p.body.id}`)).status, 200, 'still there');
      for (const id of refs) assert.equal((await s.http.delete(`/fhir/Observation/${id}`)).status, 204);
      assert.equal((await s.http.delete(`/fhir/Patient/${p.body.id}`)).status, 204);
      const self = await post(s, 'Patient', patient());
      await s.http.put(`/fhir/Patient/${self.body.id}`).set('Content-Type', FHIR_JSON).send(patient({ id: self.body.id, link: [{ other: { reference: `Patient/${self.body.id}` }, type: 'seealso' }] }));
      assert.equal((await s.http.delete(`/fhir/Patient/${self.body.id}`)).status, 204, 'a reference to itself does not block a delete');
    });
  });

  it('the check runs once per store transaction: a referrer written before its target in the same transaction commits', async () => {
    await withServer('write', async (s) => {
      const ctx = (s.router as unknown as { ctx: FhirContext }).ctx;
      await inTransaction(ctx, async (tx) => {
        await writeVersion(ctx, tx, null, 'Observation', 'o1', observation('Patient/p1') as never, 'PUT');
        await writeVersion(ctx, tx, null, 'Patient', 'p1', patient() as never, 'PUT');
      });
      assert.equal((await s.http.get('/fhir/Observation/o1')).status, 200);
      await assert.rejects(
        inTransaction(ctx, async (tx) => {
          await writeVersion(ctx, tx, null, 'Patient', 'p2', patient() as never, 'PUT');
          await writeVersion(ctx, tx, null, 'Observation', 'o2', observation('Patient/p3') as never, 'PUT');
        }),
        { category: 'unprocessable' },
      );
      assert.equal((await s.http.get('/fhir/Patient/p2')).status, 404, 'a refused transaction writes nothing');
    });
  });
});
