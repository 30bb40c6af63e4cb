/**
 * Subscriptions with the rest-hook channel (https://hl7.org/fhir/R4/subscription.html): notifications to a real
 * HTTP receiver on 127.0.0.1 for matching creates, updates and deletes, payload and headers per channel, status
 * changes, and retries with backoff.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';
import { startReceiver, type Receiver } from '../../fixtures/receiver';
import { LOINC, eventually, observation, subscription } from '../../fixtures/subscriptions';

async function post(s: TestServer, path: string, body: unknown) {
  return s.http.post(`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(body as object);
}

async function read(s: TestServer, path: string): Promise<Record<string, unknown>> {
  return (await s.http.get(`/fhir/${path}`)).body as Record<string, unknown>;
}

describe('Subscription rest-hook notifications (subscription.html#channels)', () => {
  let s: TestServer;
  let receiver: Receiver;
  before(async () => {
    s = await startTestServer({ env: { SUBSCRIPTION_RETRY_BASE_MS: '50', SUBSCRIPTION_MAX_ATTEMPTS: '4' } });
  });
  after(() => s.close());
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    // Turn every subscription off so the next test starts clean.
    const bundle = await read(s, 'Subscription?status=requested,active,error');
    for (const e of (bundle.entry as Array<{ resource: { id: string } }>) ?? []) await s.http.delete(`/fhir/Subscription/${e.resource.id}`);
    await s.subscriptions.settle();
    await receiver.close();
  });

  it('a requested Subscription is accepted: the server sets it active', async () => {
    const created = await post(s, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1234-5`));
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'requested');
    const current = await eventually(() => read(s, `Subscription/${created.body.id}`), (r) => r.status === 'active');
    assert.equal(current.status, 'active');
    assert.equal((current.meta as { versionId: string }).versionId, '2');
  });

  it('create, update and delete of a matching resource each POST a notification without body when payload is absent', async () => {
    await post(s, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1234-5&subject=Patient/1`));
    await s.subscriptions.settle();
    const created = await post(s, 'Observation', observation('1234-5'));
    const id = created.body.id as string;
    await s.http.put(`/fhir/Observation/${id}`).set('Content-Type', FHIR_JSON).send({ ...observation('1234-5'), id, status: 'amended' });
    await s.http.delete(`/fhir/Observation/${id}`);
    const got = await receiver.waitFor(3);
    assert.equal(got.length, 3);
    for (const r of got) {
      assert.equal(r.method, 'POST');
      assert.equal(r.url, '/hook');
      assert.equal(r.body, '');
    }
  });

  it('with channel.payload the version written is the body, with channel.header values as headers', async () => {
    await post(
      s,
      'Subscription',
      subscription(receiver.url, `Observation?code=${LOINC}|1234-5`, { payload: 'application/fhir+json', header: ['Authorization: Bearer abc', 'X-Tenant: north'] }),
    );
    await s.subscriptions.settle();
    const created = await post(s, 'Observation', observation('1234-5'));
    const updated = await s.http.put(`/fhir/Observation/${created.body.id}`).set('Content-Type', FHIR_JSON).send({ ...observation('1234-5'), id: created.body.id, status: 'amended' });
    const [first, second] = await receiver.waitFor(2);
    assert.ok(first && second);
    assert.equal(first.headers['content-type'], 'application/fhir+json');
    assert.equal(first.headers.authorization, 'Bearer abc');
    assert.equal(first.headers['x-tenant'], 'north');
    assert.deepEqual(JSON.parse(first.body), created.body);
    assert.deepEqual(JSON.parse(second.body), updated.body);
  });

  it('writes that do not match the criteria send nothing', async () => {
    await post(s, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1234-5&subject=Patient/1`));
    await s.subscriptions.settle();
    await post(s, 'Observation', observation('9999-9'));
    await post(s, 'Observation', observation('1234-5', 'Patient/2'));
    await post(s, 'Patient', { resourceType: 'Patient', id: 'x' });
    const marker = await post(s, 'Observation', observation('1234-5'));
    await s.subscriptions.settle();
    const got = await receiver.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(receiver.received.length, 1, 'only the matching write was notified');
    assert.equal(got.length, 1);
    assert.ok(marker.body.id);
  });

  it('criteria with alternatives, without a token, or a bare type match as a search would', async () => {
    const endpoints = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    try {
      const [alternatives, noToken, bare] = endpoints as [Receiver, Receiver, Receiver];
      await post(s, 'Subscription', subscription(alternatives.url, `Observation?code=${LOINC}|1111-1,${LOINC}|2222-2&status=final`));
      await post(s, 'Subscription', subscription(noToken.url, 'Observation?subject=Patient/2'));
      await post(s, 'Subscription', subscription(bare.url, 'Observation'));
      await s.subscriptions.settle();
      await post(s, 'Observation', observation('1111-1'));
      await post(s, 'Observation', observation('2222-2', 'Patient/2'));
      await post(s, 'Observation', { ...observation('1111-1'), status: 'preliminary' });
      await post(s, 'Observation', observation('3333-3'));
      await Promise.all([alternatives.waitFor(2), noToken.waitFor(1), bare.waitFor(4)]);
      await s.subscriptions.settle();
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        endpoints.map((e) => e.received.length),
        [2, 1, 4],
      );
    } finally {
      await Promise.all(endpoints.map((e) => e.close()));
    }
  });

  it('a Subscription changed or deleted through the API takes effect for the next write', async () => {
    const created = await post(s, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1111-1`, { payload: 'application/fhir+json' }));
    const id = created.body.id as string;
    await eventually(() => read(s, `Subscription/${id}`), (r) => r.status === 'active');
    const current = await read(s, `Subscription/${id}`);
    await s.http.put(`/fhir/Subscription/${id}`).set('Content-Type', FHIR_JSON).send({ ...current, criteria: `Observation?code=${LOINC}|2222-2` });
    await post(s, 'Observation', observation('1111-1'));
    const wanted = await post(s, 'Observation', observation('2222-2'));
    const [got] = await receiver.waitFor(1);
    assert.equal(JSON.parse(got?.body ?? '{}').id, wanted.body.id);
    await s.http.delete(`/fhir/Subscription/${id}`);
    await post(s, 'Observation', observation('2222-2'));
    await s.subscriptions.settle();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(receiver.received.length, 1);
  });

  it('failed notifications are retried with backoff; status error records why, and a success sets it active again', async () => {
    const created = await post(s, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1234-5`));
    const id = created.body.id as string;
    await eventually(() => read(s, `Subscription/${id}`), (r) => r.status === 'active');
    receiver.answers.push(500, 503);
    await post(s, 'Observation', observation('1234-5'));
    const failing = await eventually(() => read(s, `Subscription/${id}`), (r) => r.status === 'error');
    assert.equal(failing.status, 'error');
    assert.match(String(failing.error), /answered HTTP 500/);
    const [a, b, c] = await receiver.waitFor(3);
    assert.ok(a && b && c);
    assert.ok(b.at - a.at >= 45, `first retry after the base delay (${b.at - a.at} ms)`);
    assert.ok(c.at - b.at >= 95, `second retry after twice the base delay (${c.at - b.at} ms)`);
    const recovered = await eventually(() => read(s, `Subscription/${id}`), (r) => r.status === 'active');
    assert.equal(recovered.status, 'active');
    assert.equal(recovered.error, undefined);
  });

  it('after SUBSCRIPTION_MAX_ATTEMPTS failures the notification is dropped and the error says so', async () => {
    const created = await post(s, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1234-5`));
    const id = created.body.id as string;
    await eventually(() => read(s, `Subscription/${id}`), (r) => r.status === 'active');
    receiver.answers.push(500, 500, 500, 500);
    await post(s, 'Observation', observation('1234-5'));
    await receiver.waitFor(4);
    const failed = await eventually(() => read(s, `Subscription/${id}`), (r) => /gave up/.test(String(r.error)));
    assert.equal(failed.status, 'error');
    assert.match(String(failed.error), /gave up the notification for Observation\/.+ after 4 attempts/);
    await eventually(async () => s.subscriptions.pending, (n) => n === 0);
    assert.equal(s.subscriptions.pending, 0);
  });

  it('an unreachable endpoint is an error naming the failure', async () => {
    const closed = await startReceiver();
    await closed.close();
    const created = await post(s, 'Subscription', subscription(closed.url, `Observation?code=${LOINC}|1234-5`));
    await post(s, 'Observation', observation('1234-5'));
    const failing = await eventually(() => read(s, `Subscription/${created.body.id}`), (r) => r.status === 'error');
    assert.match(String(failing.error), /failed: ECONNREFUSED/);
  });

  it('the write that triggers a notification is not held up by a slow receiver', async () => {
    receiver.delayMs = 3000;
    await post(s, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1234-5`));
    await s.subscriptions.settle();
    const started = Date.now();
    const res = await post(s, 'Observation', observation('1234-5'));
    const elapsed = Date.now() - started;
    assert.equal(res.status, 201);
    await receiver.waitFor(1);
    assert.ok(elapsed < 1500, `the write answered in ${elapsed} ms while the receiver takes 3000 ms to answer`);
  });
});

describe('writes the server did not hear of are found in the history', () => {
  it('a matching version written by another server on the same store is notified by the scan', async () => {
    const receiver = await startReceiver();
    const a = await startTestServer();
    // A second server on the same store: its writes never reach the first one's afterCommit.
    const b = await startTestServer({ store: a.store });
    try {
      await post(a, 'Subscription', subscription(receiver.url, `Observation?code=${LOINC}|1234-5`));
      await a.subscriptions.settle();
      const written = await post(b, 'Observation', observation('1234-5'));
      await a.subscriptions.settle();
      const [got] = await receiver.waitFor(1);
      assert.equal(got?.method, 'POST');
      assert.ok(written.body.id);
    } finally {
      await b.subscriptions.close();
      await a.close();
      await receiver.close();
    }
  });
});
