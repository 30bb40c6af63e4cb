/**
 * Atomicity of a transaction Bundle across a crash (https://hl7.org/fhir/R4/http.html#transaction): the server
 * process is killed with SIGKILL while it processes a large transaction; after a restart on the same data
 * directory each transaction is there completely or not at all, and an acknowledged one completely.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startServer, stopServer, systemAuthorization } from '../fixtures/process';

const SIZE = 1000;

const bundle = (round: number) =>
  JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: SIZE }, (_, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(round * SIZE + i).padStart(12, '0')}`,
      resource: { resourceType: 'Patient', identifier: [{ system: 'http://example.org/crash', value: `${round}-${i}` }], name: [{ family: `Round${round}` }] },
      request: { method: 'POST', url: 'Patient' },
    })),
  });

describe('crash during a large transaction (SIGKILL)', () => {
  it('leaves each transaction all or nothing after a restart, and an acknowledged one complete', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhir-tx-crash-'));
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${env.PORT}/fhir`;
    const auth = await systemAuthorization(env);
    const send = (round: number) =>
      fetch(base, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' }, body: bundle(round) });
    try {
      // Round 0 is acknowledged before the kill; it also measures how long one transaction takes here.
      let server = await startServer(env);
      const started = Date.now();
      const acknowledged = await send(0);
      const duration = Date.now() - started;
      assert.equal(acknowledged.status, 200);
      await stopServer(server, 'SIGKILL');
      // Later rounds are killed at several points of their processing.
      const fractions = [0.2, 0.5, 0.8, 1.0];
      for (const [i, fraction] of fractions.entries()) {
        server = await startServer(env);
        const pending = send(i + 1).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, duration * fraction));
        await stopServer(server, 'SIGKILL');
        await pending;
      }
      server = await startServer(env);
      try {
        const counts: number[] = [];
        for (let round = 0; round <= fractions.length; round++) {
          const res = await fetch(`${base}/Patient?family=Round${round}&_summary=count`, { headers: auth });
          counts.push(((await res.json()) as { total: number }).total);
        }
        assert.equal(counts[0], SIZE, 'the acknowledged transaction survived whole');
        assert.deepEqual(counts.filter((n) => n !== 0 && n !== SIZE), [], `partial transactions after restart: ${counts.join(', ')}`);
      } finally {
        await stopServer(server);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
