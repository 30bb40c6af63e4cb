/**
 * A Subscription sees only what its creator may see: a patient app's subscription on Observation is notified of
 * its own patient's writes and never of another patient's (https://hl7.org/fhir/R4/subscription.html).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type Receiver } from '../../fixtures/receiver';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';
import { LOINC, eventually, observation, subscription } from '../../fixtures/subscriptions';

describe('security: subscriptions carry their creator\'s access', () => {
  let s: TestServer;
  let receiver: Receiver;
  before(async () => {
    s = await startTestServer();
    receiver = await startReceiver();
    for (const id of ['alice', 'bob']) await s.http.put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id });
  });
  after(async () => {
    await receiver.close();
    await s.close();
  });

  it("a patient app's subscription is notified of its patient's writes only", async () => {
    const alice = s.as(await s.token({ scope: 'patient/*.cruds', patient: 'alice', client_id: 'alice-app' }));
    const created = await alice.post('/fhir/Subscription').set('Content-Type', FHIR_JSON).send(subscription(receiver.url, `Observation?code=${LOINC}|1234-5`, { payload: 'application/fhir+json' }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const active = await eventually(async () => (await alice.get(`/fhir/Subscription/${created.body.id}`)).body, (r) => r.status === 'active');
    assert.equal(active.status, 'active');
    const bobs = await s.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(observation('1234-5', 'Patient/bob'));
    const alices = await s.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(observation('1234-5', 'Patient/alice'));
    assert.equal(bobs.status, 201);
    assert.equal(alices.status, 201);
    await s.subscriptions.settle();
    const [first] = await receiver.waitFor(1);
    assert.ok(first?.body.includes(alices.body.id), 'notified of Alice\'s observation');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(receiver.received.every((r) => !r.body.includes(bobs.body.id) && !r.body.includes('Patient/bob')), "never notified of Bob's");
  });
});
