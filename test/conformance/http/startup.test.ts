/** The start-up contract: `npm start` serves /fhir on the embedded store; bad configuration stops with one line. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, spawnServer, startServer, stopServer, systemAuthorization } from '../../fixtures/process';

describe('start-up contract', () => {
  it('invalid configuration stops start-up with exit code 1 and one clear line', async () => {
    const child = spawnServer({ PORT: 'not-a-port' });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.match(stderr, /PORT must be a whole number/);
  });

  it('serves /fhir/metadata on an on-disk embedded store and answers reads after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fhir-start-'));
    const env = { PORT: String(await freePort()), DATA_DIR: dir };
    const base = `http://127.0.0.1:${env.PORT}/fhir`;
    const auth = await systemAuthorization(env);
    try {
      let child = await startServer(env);
      assert.equal((await fetch(`${base}/metadata`)).status, 200);
      const created = await fetch(`${base}/Patient`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', gender: 'female' }),
      });
      assert.equal(created.status, 201);
      const id = ((await created.json()) as { id: string }).id;
      await stopServer(child);
      child = await startServer(env);
      assert.equal((await fetch(`${base}/Patient/${id}`, { headers: auth })).status, 200);
      await stopServer(child);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
