/**
 * Durability of the whole server: a stream of HTTP writes, the server process killed with SIGKILL in the middle
 * of it, a restart on the same data directory, and every write that was acknowledged (2xx) read back intact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startServer, stopServer, systemAuthorization } from '../fixtures/process';

describe('crash recovery of the server (SIGKILL during a stream of writes)', () => {
  it('every acknowledged create and update survives a kill -9 and a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhir-crash-'));
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${env.PORT}/fhir`;
    const auth = await systemAuthorization(env);
    /** id -> highest acknowledged version and the family name written in it */
    const acknowledged = new Map<string, { version: number; family: string }>();
    try {
      for (let round = 0; round < 3; round++) {
        const server = await startServer(env);
        let stop = false;
        const writer = async (w: number): Promise<void> => {
          for (let i = 0; !stop; i++) {
            const id = `r${round}-w${w}-${i % 5}`;
            const family = `Family-${round}-${w}-${i}`;
            try {
              const res = await fetch(`${base}/Patient/${id}`, {
                method: 'PUT',
                headers: { ...auth, 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' },
                body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family }] }),
              });
              if (res.ok) {
                const version = Number(/W\/"(\d+)"/.exec(res.headers.get('etag') ?? '')?.[1]);
                acknowledged.set(id, { version, family });
              }
            } catch {
              return;
            }
          }
        };
        const writers = Array.from({ length: 8 }, (_, w) => writer(w));
        // Kill once this round has acknowledged writes (a loaded machine may take a while), at a varying point.
        const before = acknowledged.size;
        const deadline = Date.now() + 20_000;
        while (acknowledged.size < before + 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, 100 + round * 150));
        const killed = stopServer(server, 'SIGKILL');
        stop = true;
        await Promise.all([killed, ...writers]);
      }
      assert.ok(acknowledged.size >= 10, `only ${acknowledged.size} writes were acknowledged before the kills`);
      const server = await startServer(env);
      try {
        for (const [id, { version, family }] of acknowledged) {
          const res = await fetch(`${base}/Patient/${id}`, { headers: auth });
          assert.equal(res.status, 200, `Patient/${id} lost`);
          const body = (await res.json()) as { meta: { versionId: string }; name: Array<{ family: string }> };
          assert.ok(Number(body.meta.versionId) >= version, `Patient/${id} went back from version ${version} to ${body.meta.versionId}`);
          if (Number(body.meta.versionId) === version) assert.equal(body.name[0]?.family, family);
          const history = await fetch(`${base}/Patient/${id}/_history/${version}`, { headers: auth });
          assert.equal(history.status, 200, `version ${version} of Patient/${id} lost from history`);
        }
      } finally {
        await stopServer(server);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
