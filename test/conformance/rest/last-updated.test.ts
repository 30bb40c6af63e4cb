/**
 * meta.lastUpdated (https://hl7.org/fhir/R4/resource.html#Meta, https://hl7.org/fhir/R4/http.html#history) keeps
 * increasing across a restart, even when the stored versions were stamped ahead of the wall clock (the server's
 * clock never repeats an instant, so above 1,000 writes per second its instants run ahead).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer } from '../../fixtures/server';

describe('meta.lastUpdated across a restart', () => {
  it('a server started on a store dated ahead of the wall clock finds those resources and stamps later versions after them', async () => {
    const ahead = new Date(Date.now() + 10 * 60_000).toISOString();
    const first = await startTestServer({ clock: { now: () => ahead } });
    const identifier = [{ system: 'http://example.org/mrn', value: 'restart-1' }];
    const created = await first.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ identifier }));
    assert.equal(created.body.meta.lastUpdated, ahead);

    const restarted = await startTestServer({ store: first.store });
    try {
      const found = await restarted.http.get('/fhir/Patient?identifier=http://example.org/mrn|restart-1');
      assert.equal(found.status, 200);
      assert.deepEqual(found.body.entry?.map((e: { resource: { id: string } }) => e.resource.id), [created.body.id]);

      const updated = await restarted.http
        .put(`/fhir/Patient/${created.body.id}`)
        .set('Content-Type', FHIR_JSON)
        .send(patient({ id: created.body.id, identifier, gender: 'female' }));
      assert.equal(updated.status, 200);
      assert.ok(updated.body.meta.lastUpdated > ahead, `${updated.body.meta.lastUpdated} should follow ${ahead}`);
      const history = await restarted.http.get(`/fhir/Patient/${created.body.id}/_history`);
      assert.deepEqual(history.body.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId), ['2', '1']);
    } finally {
      await restarted.close();
    }
  });
});
