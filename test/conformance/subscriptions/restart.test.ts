/**
 * Pending notifications survive a restart: the real server process is killed (SIGKILL) after a matching write
 * whose notification could not be delivered (receiver down), then started again with the receiver up; the
 * notification arrives once, with the version written, and the Subscription is active again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startServer, stopServer, systemAuthorization } from '../../fixtures/process';
import { startReceiver } from '../../fixtures/receiver';
import { LOINC, eventually, observation, subscription } from '../../fixtures/subscriptions';


describe('pending notifications survive a restart', () => {
  it('a notification that failed before a kill -9 is delivered after the restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhir-subscriptions-'));
    const receiverPort = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), SUBSCRIPTION_RETRY_BASE_MS: '300' };
    const base = `http://127.0.0.1:${env.PORT}/fhir`;
    const auth = await systemAuthorization(env);
    const json = { ...auth, 'Content-Type': 'application/fhir+json' };
    const readSubscription = async (id: string) => (await (await fetch(`${base}/Subscription/${id}`, { headers: auth })).json()) as Record<string, unknown>;
    let server = await startServer(env);
    try {
      const sub = subscription(`http://127.0.0.1:${receiverPort}/hook`, `Observation?code=${LOINC}|1234-5`, { payload: 'application/fhir+json' });
      const created = (await (await fetch(`${base}/Subscription`, { method: 'POST', headers: json, body: JSON.stringify(sub) })).json()) as { id: string };
      await eventually(() => readSubscription(created.id), (r) => r.status === 'active');
      const written = (await (await fetch(`${base}/Observation`, { method: 'POST', headers: json, body: JSON.stringify(observation('1234-5')) })).json()) as {
        id: string;
      };
      const failing = await eventually(() => readSubscription(created.id), (r) => r.status === 'error');
      assert.match(String(failing.error), /ECONNREFUSED/);
      await stopServer(server, 'SIGKILL');

      const receiver = await startReceiver(receiverPort);
      try {
        server = await startServer(env);
        const [got] = await receiver.waitFor(1, 10_000);
        assert.deepEqual((JSON.parse(got?.body ?? '{}') as { id: string }).id, written.id);
        const recovered = await eventually(() => readSubscription(created.id), (r) => r.status === 'active');
        assert.equal(recovered.status, 'active');
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(receiver.received.length, 1, 'delivered once');
      } finally {
        await receiver.close();
      }
    } finally {
      await stopServer(server);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
